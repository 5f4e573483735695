package io.gatehouse.config;

import java.util.List;

/**
 * The {@code deny} filter: blocks abusive traffic before anything else of the route runs (403 {@code denied},
 * problem+json). Static lists here, plus the shared deny list in Redis that the admin API edits
 * ({@code POST /deny}): every edge honours a change within a second. Put it in a listener's {@code filters} to cover
 * every route.
 *
 * @param cidrs      client addresses refused (after trusted proxies)
 * @param userAgents User-Agent globs refused ({@code *} any run of characters)
 * @param headers    header rules: a request matching any is refused
 * @param shared     honour the Redis deny list (default: true when there is a {@code redis:} section)
 */
public record DenyConfig(List<String> cidrs, List<String> userAgents, List<AuthorizeConfig.ValueRuleConfig> headers, Boolean shared) {
    public DenyConfig {
        cidrs = cidrs == null ? List.of() : List.copyOf(cidrs);
        userAgents = userAgents == null ? List.of() : List.copyOf(userAgents);
        headers = headers == null ? List.of() : List.copyOf(headers);
        for (String c : cidrs) ConfigChecks.requireCidr("cidrs", c);
    }
}
