package io.gatehouse.hsts;

import io.gatehouse.config.RouteConfig;
import io.gatehouse.filter.Filter;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.http.ForwardingResponseSink;
import io.gatehouse.http.HttpExchange;
import io.netty.util.AsciiString;

/**
 * HTTP Strict Transport Security (RFC 6797): adds {@code Strict-Transport-Security} to every final response of the
 * route, its own local answers included, but only over TLS, where a browser honours it (§7.2). Over plain HTTP it
 * does nothing, at no cost.
 */
public final class Hsts implements io.gatehouse.filter.NamedFilter {
    private static final AsciiString STRICT_TRANSPORT_SECURITY = AsciiString.cached("strict-transport-security");
    private final AsciiString value;

    public Hsts(RouteConfig.HstsConfig config) {
        this.value = new AsciiString(config.headerValue());
    }

    @Override
    public String name() {
        return "hsts";
    }

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        if (exchange.connection().secure()) {
            exchange.wrapResponse(next -> ForwardingResponseSink.finalHeaders(next, h -> h.set(STRICT_TRANSPORT_SECURITY, value)));
        }
        chain.proceed(exchange);
    }
}
