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
        return (exchange, chain) -> LocalResponse.send(exchange, LocalResponse.text(status, c.body(), c.contentType()));
    }

    public static Filter redirect(RouteConfig.RedirectConfig c) {
        HttpResponseStatus status = HttpResponseStatus.valueOf(c.status());
        return (exchange, chain) -> {
            String location;
            if (c.location() != null) {
                location = c.location();
            } else {
                String scheme = c.scheme() != null ? c.scheme() : exchange.downstream().scheme();
                String host = c.host() != null ? c.host() : exchange.request().headers().get(HttpHeaderNames.HOST, exchange.host());
                String path = c.path() != null ? c.path() : exchange.path();
                location = scheme + "://" + host + path + (exchange.query() == null ? "" : "?" + exchange.query());
            }
            FullHttpResponse r = LocalResponse.text(status, "", null);
            r.headers().set(HttpHeaderNames.LOCATION, location);
            LocalResponse.send(exchange, r);
        };
    }
}
