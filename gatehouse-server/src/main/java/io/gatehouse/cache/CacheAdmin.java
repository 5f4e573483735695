package io.gatehouse.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.http.LocalResponse;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The cache's part of the admin API:
 * <ul>
 *   <li>{@code GET /cache}: per route, entries, bytes, and the counts behind the hit ratio (requests and bytes),
 *       origin requests saved, coalesced waits, stale served, evictions;</li>
 *   <li>{@code POST /cache/purge} with {@code {"url": "https://host/path?q"}}, {@code {"prefix": "https://host/img/"}}
 *       or {@code {"tag": "product-42"}} (a {@code Surrogate-Key}/{@code Cache-Tag} value), and optionally
 *       {@code "soft": true} (mark stale: validated before reuse, still usable on error) and {@code "route": "name"}
 *       (only that route's cache). Answers {@code {"purged": N}}.</li>
 * </ul>
 * Errors are problem details (RFC 9457).
 */
public final class CacheAdmin {
    private static final ObjectMapper JSON = new ObjectMapper();

    private CacheAdmin() {}

    /** The answer for {@code path} (under {@code /cache}), or null if the path is not the cache's. */
    public static FullHttpResponse answer(MeterRegistry meters, HttpMethod method, String path, ByteBuf body) {
        switch (path) {
            case "/cache" -> {
                if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) return notAllowed("GET");
                List<Map<String, Object>> routes = new ArrayList<>();
                for (RouteCache c : RouteCache.of(meters)) routes.add(c.stats());
                routes.sort((a, b) -> (a.get("listener") + "/" + a.get("route")).compareTo(b.get("listener") + "/" + b.get("route")));
                return json(HttpResponseStatus.OK, Map.of("routes", routes));
            }
            case "/cache/purge" -> {
                if (!method.equals(HttpMethod.POST)) return notAllowed("POST");
                return purge(meters, body);
            }
            default -> {
                return null;
            }
        }
    }

    private static FullHttpResponse purge(MeterRegistry meters, ByteBuf body) {
        JsonNode req;
        try {
            req = body == null || !body.isReadable() ? null : JSON.readTree((java.io.InputStream) new ByteBufInputStream(body.duplicate()));
        } catch (java.io.IOException e) {
            req = null;
        }
        if (req == null || !req.isObject()) return bad("the body must be a JSON object with one of url, prefix, tag");
        int given = (req.hasNonNull("url") ? 1 : 0) + (req.hasNonNull("prefix") ? 1 : 0) + (req.hasNonNull("tag") ? 1 : 0);
        if (given != 1) return bad("give exactly one of url, prefix, tag");
        boolean soft = req.path("soft").asBoolean(false);
        String route = req.hasNonNull("route") ? req.get("route").asText() : null;
        List<RouteCache> caches = RouteCache.of(meters).stream().filter(c -> route == null || c.route().equals(route)).toList();
        if (route != null && caches.isEmpty()) {
            return LocalResponse.problem(HttpResponseStatus.NOT_FOUND, "no_such_cache", "no route named " + route + " has a cache");
        }
        int purged = 0;
        if (req.hasNonNull("tag")) {
            for (RouteCache c : caches) purged += c.store().purgeTag(req.get("tag").asText(), soft);
        } else {
            boolean prefix = req.hasNonNull("prefix");
            String text = req.get(prefix ? "prefix" : "url").asText();
            URI uri;
            try {
                uri = URI.create(text);
            } catch (IllegalArgumentException e) {
                uri = null;
            }
            if (uri == null || uri.getScheme() == null || uri.getHost() == null) {
                return bad((prefix ? "prefix" : "url") + " must be an absolute URL such as https://example.com/path");
            }
            String origin = uri.getScheme().toLowerCase(Locale.ROOT) + "://" + uri.getHost().toLowerCase(Locale.ROOT);
            String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
            for (RouteCache c : caches) {
                if (prefix) {
                    purged += c.store().purgePrefix(origin + path + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()), soft);
                } else {
                    String q = CacheKeys.query(uri.getRawQuery(), c.key);
                    purged += c.store().purgeUrl(origin + path + (q == null ? "" : "?" + q), soft);
                }
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("purged", purged);
        out.put("soft", soft);
        return json(HttpResponseStatus.OK, out);
    }

    private static FullHttpResponse bad(String detail) {
        return LocalResponse.problem(HttpResponseStatus.BAD_REQUEST, "bad_purge", detail);
    }

    private static FullHttpResponse notAllowed(String allowed) {
        FullHttpResponse r = LocalResponse.problem(HttpResponseStatus.METHOD_NOT_ALLOWED, "method_not_allowed", "use " + allowed);
        r.headers().set(HttpHeaderNames.ALLOW, allowed);
        return r;
    }

    private static FullHttpResponse json(HttpResponseStatus status, Object body) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        return r;
    }
}
