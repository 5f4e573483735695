package io.gatehouse.cors;

import io.gatehouse.config.CorsConfig;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.filter.FilterContext;
import io.gatehouse.filter.NamedFilter;
import io.gatehouse.http.ForwardingResponseSink;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.util.List;
import java.util.Locale;

/**
 * {@code cors}: answers preflights itself (204 with the allowed methods and headers, or 403 for an origin, method or
 * header not allowed) and adds {@code Access-Control-Allow-Origin} (and the rest) to the responses of allowed origins.
 * Responses always say {@code Vary: Origin}, so a cache never hands one origin's answer to another.
 */
public final class Cors implements NamedFilter {
    private final CorsConfig config;
    private final boolean anyOrigin;
    private final String methods;
    private final String maxAge;
    private final String expose;

    public Cors(CorsConfig config, FilterContext context) {
        this.config = config;
        this.anyOrigin = config.allowOrigins().contains("*");
        this.methods = String.join(", ", config.allowMethods());
        this.maxAge = Long.toString(config.maxAge().toSeconds());
        this.expose = String.join(", ", config.exposeHeaders());
    }

    @Override
    public String name() {
        return "cors";
    }

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        HttpHeaders h = exchange.request().headers();
        String origin = h.get(HttpHeaderNames.ORIGIN);
        boolean preflight = origin != null && HttpMethod.OPTIONS.equals(exchange.request().method())
                && h.contains(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD);
        if (preflight) {
            preflight(exchange, origin, h);
            return;
        }
        boolean allowed = origin != null && allows(origin);
        exchange.wrapResponse(next -> ForwardingResponseSink.finalHeaders(next, out -> stamp(out, origin, allowed)));
        chain.proceed(exchange);
    }

    private void stamp(HttpHeaders out, String origin, boolean allowed) {
        out.add(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN);
        if (!allowed) return;
        allowOrigin(out, origin);
        if (!expose.isEmpty()) out.set(HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, expose);
    }

    private void allowOrigin(HttpHeaders out, String origin) {
        // with credentials the origin is named, never '*' (the Fetch standard refuses '*' then)
        out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, anyOrigin && !config.allowCredentials() ? "*" : origin);
        if (config.allowCredentials()) out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
    }

    private void preflight(HttpExchange exchange, String origin, HttpHeaders h) {
        String method = h.get(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD).strip().toUpperCase(Locale.ROOT);
        List<String> asked = h.getAll(HttpHeaderNames.ACCESS_CONTROL_REQUEST_HEADERS).stream()
                .flatMap(v -> java.util.Arrays.stream(v.split(","))).map(s -> s.strip().toLowerCase(Locale.ROOT))
                .filter(s -> !s.isEmpty()).toList();
        String refusal = !allows(origin) ? "cors_origin_not_allowed"
                : !config.allowMethods().contains(method) && !isSimple(method) ? "cors_method_not_allowed"
                : !config.allowHeaders().contains("*") && !config.allowHeaders().containsAll(asked) ? "cors_header_not_allowed"
                : null;
        if (refusal != null) {
            FullHttpResponse r = LocalResponse.problem(HttpResponseStatus.FORBIDDEN, refusal, "this cross-origin request is not allowed");
            r.headers().add(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN);
            exchange.failureReason(refusal);
            LocalResponse.send(exchange, r);
            return;
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT, Unpooled.EMPTY_BUFFER);
        HttpHeaders out = r.headers();
        allowOrigin(out, origin);
        out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, methods);
        if (!asked.isEmpty()) {
            out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, config.allowHeaders().contains("*") ? "*" : String.join(", ", asked));
        }
        out.set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, maxAge);
        out.add(HttpHeaderNames.VARY, "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
        LocalResponse.send(exchange, r);
    }

    private static boolean isSimple(String method) {
        return method.equals("GET") || method.equals("HEAD") || method.equals("POST");
    }

    /** Exact origins (case-insensitive scheme and host), '*', and one-level wildcards such as https://*.example.com. */
    boolean allows(String origin) {
        if (anyOrigin) return true;
        String o = origin.toLowerCase(Locale.ROOT);
        for (String allowed : config.allowOrigins()) {
            String a = allowed.toLowerCase(Locale.ROOT);
            if (a.equals(o)) return true;
            int star = a.indexOf("://*.");
            if (star > 0) {
                String scheme = a.substring(0, star + 3);
                String suffix = a.substring(star + 4); // ".example.com"
                if (o.startsWith(scheme) && o.endsWith(suffix)) {
                    String label = o.substring(scheme.length(), o.length() - suffix.length());
                    if (!label.isEmpty() && label.matches("[a-z0-9-]+")) return true;
                }
            }
        }
        return false;
    }
}
