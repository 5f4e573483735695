package io.gatehouse.auth;

import io.gatehouse.config.AuthorizeConfig;
import io.gatehouse.config.AuthorizeConfig.ValueRuleConfig;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.filter.FilterContext;
import io.gatehouse.filter.NamedFilter;
import io.gatehouse.http.Cidrs;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/** {@code authorize}: who may use the route; see {@link AuthorizeConfig} for the order of the checks. */
public final class Authorize implements NamedFilter {
    private final AuthorizeConfig config;
    private final Cidrs deny;
    private final Cidrs allow;
    private final List<Pattern> denyAgents;
    private final List<Rule> denyHeaders;
    private final List<Rule> claims;
    private final Set<String> methods;
    private final AuthFailures failures;

    /** A compiled {@link ValueRuleConfig}. */
    private record Rule(ValueRuleConfig config, Pattern glob) {
        static Rule of(ValueRuleConfig c) {
            return new Rule(c, c.glob() == null ? null : io.gatehouse.http.Globs.pattern(c.glob()));
        }

        boolean matches(Object value) {
            if (value == null) return false;
            if (config.equals() != null) return config.equals().equals(String.valueOf(value));
            if (config.oneOf() != null) return config.oneOf().contains(String.valueOf(value));
            if (config.contains() != null) {
                if (value instanceof List<?> l) return l.stream().anyMatch(v -> config.contains().equals(String.valueOf(v)));
                return String.valueOf(value).contains(config.contains());
            }
            return glob.matcher(String.valueOf(value)).matches();
        }
    }

    public Authorize(AuthorizeConfig config, FilterContext context) {
        this.config = config;
        this.deny = new Cidrs(config.denyCidrs());
        this.allow = config.allowCidrs().isEmpty() ? null : new Cidrs(config.allowCidrs());
        this.denyAgents = config.denyUserAgents().stream().map(io.gatehouse.http.Globs::pattern).toList();
        this.denyHeaders = config.denyHeaders().stream().map(Rule::of).toList();
        this.claims = config.claims().stream().map(Rule::of).toList();
        this.methods = Set.copyOf(config.methods());
        this.failures = new AuthFailures(context.listener(), context.route(), "authorize", "Bearer", context.meters());
    }

    @Override
    public String name() {
        return "authorize";
    }

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        var h = exchange.request().headers();
        java.net.InetAddress client = exchange.clientAddress();
        if (!deny.isEmpty() && deny.contains(client)) {
            failures.forbidden(exchange, "denied", "requests from this address are not accepted");
            return;
        }
        if (!denyAgents.isEmpty()) {
            String agent = h.get(HttpHeaderNames.USER_AGENT, "");
            for (Pattern p : denyAgents) {
                if (p.matcher(agent).matches()) {
                    failures.forbidden(exchange, "denied", "requests from this client are not accepted");
                    return;
                }
            }
        }
        for (Rule r : denyHeaders) {
            for (String v : h.getAll(r.config().name())) {
                if (r.matches(v)) {
                    failures.forbidden(exchange, "denied", "this request is not accepted");
                    return;
                }
            }
        }
        if (allow != null && !allow.contains(client)) {
            failures.forbidden(exchange, "ip_not_allowed", "requests from this address are not accepted here");
            return;
        }
        if (!methods.isEmpty() && !methods.contains(exchange.request().method().name())) {
            FullHttpResponse r = LocalResponse.problem(HttpResponseStatus.METHOD_NOT_ALLOWED, "method_not_allowed",
                    exchange.request().method().name() + " is not allowed here");
            r.headers().set(HttpHeaderNames.ALLOW, String.join(", ", config.methods()));
            exchange.failureReason("method_not_allowed");
            LocalResponse.send(exchange, r);
            return;
        }
        boolean needsIdentity = !config.consumers().isEmpty() || !config.groups().isEmpty() || !config.scopes().isEmpty() || !claims.isEmpty();
        if (needsIdentity) {
            Identity id = exchange.attribute(Identity.KEY);
            if (id == null) {
                failures.unauthorized(exchange, "missing_credentials", "this route needs an authenticated caller");
                return;
            }
            if (!config.consumers().isEmpty() && (id.consumer() == null || !config.consumers().contains(id.consumer()))) {
                failures.forbidden(exchange, "consumer_not_allowed", "this consumer may not use this route");
                return;
            }
            if (!config.groups().isEmpty() && id.groups().stream().noneMatch(config.groups()::contains)) {
                failures.forbidden(exchange, "group_not_allowed", "this consumer's groups may not use this route");
                return;
            }
            if (!id.scopes().containsAll(config.scopes())) {
                FullHttpResponse r = LocalResponse.problem(HttpResponseStatus.FORBIDDEN, "insufficient_scope",
                        "the token lacks a required scope: " + String.join(" ", config.scopes()));
                r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer error=\"insufficient_scope\", scope=\""
                        + String.join(" ", config.scopes()) + "\"");
                failures.refuse(exchange, r, "insufficient_scope");
                return;
            }
            for (Rule rule : claims) {
                if (!rule.matches(id.claims().get(rule.config().name()))) {
                    failures.forbidden(exchange, "claim_mismatch", "the token's claim " + rule.config().name() + " does not allow this");
                    return;
                }
            }
        }
        chain.proceed(exchange);
    }
}
