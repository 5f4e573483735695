package io.gatehouse.config;

import java.util.List;

/**
 * The {@code authorize} filter: who may use the route. Checks run in this order, the first that fails answers:
 * deny lists (403 {@code denied}), allowed networks (403 {@code ip_not_allowed}), methods (405 with {@code Allow}),
 * then, needing an identity from an authentication filter placed before it (401 without one): consumers and groups
 * (403), scopes (403 {@code insufficient_scope}, RFC 6750), claims (403 {@code claim_mismatch}).
 *
 * @param denyCidrs       client addresses refused (after trusted proxies)
 * @param denyUserAgents  User-Agent globs refused ({@code *} any run of characters)
 * @param denyHeaders     header rules: a request matching any is refused
 * @param allowCidrs      when set, only these client addresses
 * @param methods         when set, only these methods
 * @param consumers       when set, only these consumers
 * @param groups          when set, only consumers in one of these groups
 * @param scopes          every one of these scopes is required
 * @param claims          every rule must hold for the token's claims
 */
public record AuthorizeConfig(List<String> denyCidrs, List<String> denyUserAgents, List<ValueRuleConfig> denyHeaders,
                              List<String> allowCidrs, List<String> methods, List<String> consumers, List<String> groups,
                              List<String> scopes, List<ValueRuleConfig> claims) {
    public AuthorizeConfig {
        denyCidrs = denyCidrs == null ? List.of() : List.copyOf(denyCidrs);
        denyUserAgents = denyUserAgents == null ? List.of() : List.copyOf(denyUserAgents);
        denyHeaders = denyHeaders == null ? List.of() : List.copyOf(denyHeaders);
        allowCidrs = allowCidrs == null ? List.of() : List.copyOf(allowCidrs);
        methods = methods == null ? List.of() : methods.stream().map(m -> m.toUpperCase(java.util.Locale.ROOT)).toList();
        consumers = consumers == null ? List.of() : List.copyOf(consumers);
        groups = groups == null ? List.of() : List.copyOf(groups);
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
        claims = claims == null ? List.of() : List.copyOf(claims);
        for (String c : denyCidrs) ConfigChecks.requireCidr("deny_cidrs", c);
        for (String c : allowCidrs) ConfigChecks.requireCidr("allow_cidrs", c);
    }

    /**
     * A rule on one named value (a header, a claim): exactly one of equals, one_of, contains (an element of an array
     * claim, or a substring of a string), glob ({@code *} any run of characters).
     */
    public record ValueRuleConfig(String name, String equals, List<String> oneOf, String contains, String glob) {
        public ValueRuleConfig {
            if (name == null || name.isBlank()) throw new IllegalArgumentException("name: is required");
            int set = (equals != null ? 1 : 0) + (oneOf != null ? 1 : 0) + (contains != null ? 1 : 0) + (glob != null ? 1 : 0);
            if (set != 1) throw new IllegalArgumentException("name: " + name + " needs exactly one of equals, one_of, contains, glob");
            oneOf = oneOf == null ? null : List.copyOf(oneOf);
        }
    }
}
