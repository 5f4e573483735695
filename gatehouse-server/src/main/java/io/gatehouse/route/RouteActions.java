package io.gatehouse.route;

import io.gatehouse.config.RouteConfig;
import io.gatehouse.filter.Filter;
import io.gatehouse.http.LocalResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;

/** The terminal actions that answer without a cluster: a fixed response and a redirect. */
public final class RouteActions {
    private RouteActions() {}

    public static Filter directResponse(RouteConfig.DirectResponseConfig c) {
        HttpResponseStatus status = HttpResponseStatus.valueOf(c.status());
        return named("direct_response", (exchange, chain) -> LocalResponse.send(exchange, LocalResponse.text(status, c.body(), c.contentType())));
    }

    public static Filter redirect(RouteConfig.RedirectConfig c) {
        HttpResponseStatus status = HttpResponseStatus.valueOf(c.status());
        return named("redirect", (exchange, chain) -> {
            String location;
            if (c.location() != null) {
                location = c.location();
            } else {
                String current = exchange.connection().scheme();
                String scheme = c.scheme() != null ? c.scheme().toString() : current;
                String host = c.host() != null ? c.host() : exchange.request().headers().get(HttpHeaderNames.HOST, exchange.host());
                if (c.port() != null || !scheme.equals(current)) {
                    // a new port replaces the Host's; a scheme change drops it (the old port belongs to the old scheme)
                    host = withoutPort(host);
                    int port = c.port() == null ? -1 : c.port();
                    boolean standard = port == -1 || (scheme.equals("https") && port == 443) || (scheme.equals("http") && port == 80);
                    if (!standard) host = host + ":" + port;
                }
                String path = c.path() != null ? c.path() : exchange.path();
                location = scheme + "://" + host + path + (exchange.query() == null ? "" : "?" + exchange.query());
            }
            FullHttpResponse r = LocalResponse.text(status, "", null);
            r.headers().set(HttpHeaderNames.LOCATION, location);
            LocalResponse.send(exchange, r);
        });
    }

    private static Filter named(String name, Filter f) {
        return new io.gatehouse.filter.NamedFilter() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void filter(io.gatehouse.http.HttpExchange exchange, io.gatehouse.filter.FilterChain chain) {
                f.filter(exchange, chain);
            }
        };
    }

    /** {@code example.com:8080} → {@code example.com}; {@code [::1]:8080} → {@code [::1]}. */
    static String withoutPort(String host) {
        int close = host.lastIndexOf(']');
        int colon = host.lastIndexOf(':');
        return colon > close && (close >= 0 || host.indexOf(':') == colon) ? host.substring(0, colon) : host;
    }
}
