package io.gatehouse.admin;

import io.gatehouse.config.ApiKeyAuthConfig;
import io.gatehouse.config.AuthorizeConfig;
import io.gatehouse.config.ConcurrencyLimitConfig;
import io.gatehouse.config.CorsConfig;
import io.gatehouse.config.DenyConfig;
import io.gatehouse.config.FilterConfig;
import io.gatehouse.config.JwtAuthConfig;
import io.gatehouse.config.OidcConfig;
import io.gatehouse.config.QuotaConfig;
import io.gatehouse.config.RateLimitConfig;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A gateway filter of a route as the dashboard shows it: its type and the few settings an operator checks (who may
 * call, how much). Never a secret: JWT secrets, OIDC client and cookie secrets are left out, not redacted.
 */
final class GatewayViews {
    private static final List<String> LIMITS = List.of("rate_limit", "quota", "concurrency_limit");
    private static final List<String> GATEWAY = List.of("api_key", "jwt", "basic_auth", "mtls_identity", "oidc", "authorize", "deny",
            "cors", "rate_limit", "quota", "concurrency_limit");

    private GatewayViews() {}

    static boolean isLimit(String type) {
        return LIMITS.contains(type);
    }

    /** Null for a filter that is not the gateway's (compression, headers, …). */
    static Map<String, Object> describe(FilterConfig f) {
        if (!GATEWAY.contains(f.type())) return null;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", f.type());
        switch (f.settings()) {
            case ApiKeyAuthConfig c -> {
                m.put("header", c.header());
                if (c.query() != null) m.put("query", c.query());
            }
            case JwtAuthConfig c -> {
                if (c.issuer() != null) m.put("issuer", c.issuer());
                if (!c.audiences().isEmpty()) m.put("audiences", c.audiences());
                m.put("algorithms", c.algorithms());
                m.put("keys", c.jwksUrl() != null ? "jwks_url " + c.jwksUrl() : c.secret() != null ? "secret" : "configured keys");
            }
            case OidcConfig c -> m.put("issuer", c.issuer());
            case AuthorizeConfig c -> {
                if (!c.consumers().isEmpty()) m.put("consumers", c.consumers());
                if (!c.groups().isEmpty()) m.put("groups", c.groups());
                if (!c.scopes().isEmpty()) m.put("scopes", c.scopes());
                if (!c.methods().isEmpty()) m.put("methods", c.methods());
                if (!c.claims().isEmpty()) m.put("claims", c.claims().size());
                if (!c.allowCidrs().isEmpty()) m.put("allow_cidrs", c.allowCidrs());
                int deny = c.denyCidrs().size() + c.denyUserAgents().size() + c.denyHeaders().size();
                if (deny > 0) m.put("deny_rules", deny);
            }
            case DenyConfig c -> {
                m.put("rules", c.cidrs().size() + c.userAgents().size() + c.headers().size());
                m.put("shared", c.shared() == null ? "when redis is configured" : c.shared());
            }
            case CorsConfig c -> m.put("origins", c.allowOrigins());
            case RateLimitConfig c -> {
                m.put("key", c.key());
                m.put("mode", c.mode().name().toLowerCase(java.util.Locale.ROOT));
                m.put("limits", c.limits().stream().map(l -> l.rate() + " burst " + l.burst()).toList());
                if (!c.plans().isEmpty()) {
                    Map<String, Object> plans = new LinkedHashMap<>();
                    for (RateLimitConfig.PlanLimitsConfig p : c.plans()) {
                        plans.put(p.plan(), p.limits().stream().map(l -> l.rate() + " burst " + l.burst()).toList());
                    }
                    m.put("plans", plans);
                }
            }
            case QuotaConfig c -> {
                m.put("key", c.key());
                if (c.perDay() != null) m.put("per_day", c.perDay());
                if (c.perMonth() != null) m.put("per_month", c.perMonth());
                m.put("time_zone", c.timeZone());
            }
            case ConcurrencyLimitConfig c -> {
                m.put("key", c.key());
                m.put("max", c.max());
            }
            default -> { }
        }
        return m;
    }
}
