package io.gatehouse.deny;

import io.gatehouse.config.AuthorizeConfig.ValueRuleConfig;
import io.gatehouse.config.DenyConfig;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.filter.FilterContext;
import io.gatehouse.filter.NamedFilter;
import io.gatehouse.http.Cidrs;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.micrometer.core.instrument.Counter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code deny}: refuses requests from blocked networks, user agents or with blocked header values, from its own lists
 * and from the shared deny list in Redis ({@link DenyList}). 403 {@code denied}, problem+json, logged and counted by
 * where the rule came from ({@code gatehouse_deny_refused_total{listener, route, list}}, list = config or shared).
 * Reads memory only: never a Redis call per request.
 */
public final class Deny implements NamedFilter {
    private static final Logger log = LoggerFactory.getLogger(Deny.class);

    private record HeaderRule(String name, ValueRuleConfig config, Pattern glob) {
        boolean matches(String v) {
            if (config.equals() != null) return config.equals().equals(v);
            if (config.oneOf() != null) return config.oneOf().contains(v);
            if (config.contains() != null) return v.contains(config.contains());
            return glob.matcher(v).matches();
        }
    }

    private final String listener;
    private final String route;
    private final Cidrs cidrs;
    private final List<Pattern> agents;
    private final List<HeaderRule> headers;
    private final DenyList shared;   // null: not honoured
    private final io.gatehouse.clock.Clock clock;
    private final Counter fromConfig;
    private final Counter fromShared;

    public Deny(DenyConfig config, FilterContext context) {
        boolean useShared = config.shared() != null ? config.shared() : context.redis() != null;
        if (useShared && context.redis() == null) {
            throw new IllegalArgumentException("route " + context.route() + ": deny with shared: true needs a redis: section");
        }
        this.listener = context.listener();
        this.route = context.route();
        this.cidrs = new Cidrs(config.cidrs());
        this.agents = config.userAgents().stream().map(io.gatehouse.http.Globs::pattern).toList();
        this.headers = config.headers().stream().map(r -> new HeaderRule(r.name(), r, r.glob() == null ? null : io.gatehouse.http.Globs.pattern(r.glob()))).toList();
        this.shared = useShared ? DenyList.of(context.redis()) : null;
        this.clock = context.clock();
        this.fromConfig = counter(context, "config");
        this.fromShared = counter(context, "shared");
    }

    private static Counter counter(FilterContext context, String list) {
        return context.meters() == null ? null : Counter.builder("gatehouse.deny.refused")
                .description("Requests refused by a deny list").tag("listener", context.listener()).tag("route", context.route())
                .tag("list", list).register(context.meters());
    }

        @Override
    public String name() {
        return "deny";
    }

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        HttpHeaders h = exchange.request().headers();
        java.net.InetAddress client = exchange.clientAddress();
        String rule = configured(client, h);
        if (rule != null) {
            refuse(exchange, fromConfig, "config " + rule);
            return;
        }
        if (shared != null) {
            DenyEntry e = shared.match(client, h, clock.currentTimeMillis());
            if (e != null) {
                refuse(exchange, fromShared, "shared " + e.id());
                return;
            }
        }
        chain.proceed(exchange);
    }

    /** The configured rule the request matches, or null. */
    private String configured(java.net.InetAddress client, HttpHeaders h) {
        if (!cidrs.isEmpty() && cidrs.contains(client)) return "cidrs";
        if (!agents.isEmpty()) {
            String agent = h.get(HttpHeaderNames.USER_AGENT, "");
            for (Pattern p : agents) if (p.matcher(agent).matches()) return "user_agents";
        }
        for (HeaderRule r : headers) {
            for (String v : h.getAll(r.name())) if (r.matches(v)) return "headers " + r.name();
        }
        return null;
    }

    private void refuse(HttpExchange exchange, Counter counter, String rule) {
        if (counter != null) counter.increment();
        exchange.failureReason("denied");
        log.info("{} {} {}: denied by {} (client {})", listener, exchange.request().method(), exchange.path(), rule,
                exchange.clientAddress() == null ? "unknown" : exchange.clientAddress().getHostAddress());
        LocalResponse.send(exchange, LocalResponse.problem(HttpResponseStatus.FORBIDDEN, "denied", "this request is not accepted"));
    }
}
