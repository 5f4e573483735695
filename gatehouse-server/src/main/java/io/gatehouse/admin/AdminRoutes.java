package io.gatehouse.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.gatehouse.Gatehouse;
import io.gatehouse.cluster.Cluster;
import io.gatehouse.cluster.Endpoint;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which admin path does what: every call of the admin API (see {@code docs/admin-api.md}), its method, and the
 * error when a request is wrong (unknown path or name: 404; wrong method: 405; bad body: 400). Everything is
 * answered at once from memory, except {@code POST /reload}, which runs on Gatehouse's reload thread.
 */
final class AdminRoutes {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Pattern CLUSTER = Pattern.compile("/clusters/([^/]+)");
    private static final Pattern ENDPOINT_ACTION = Pattern.compile("/clusters/([^/]+)/endpoints/([^/]+)/([^/]+)");
    private static final List<String> ACTIONS = List.of("drain", "disable", "enable", "weight");
    static final List<String> PATHS = List.of("/live", "/ready", "/stats", "/stats/history", "/listeners", "/routes",
            "/clusters", "/clusters/{cluster}", "/events", "/config", "/blocks", "POST /reload",
            "POST /clusters/{cluster}/endpoints/{address}/drain|disable|enable|weight", "/cache", "POST /cache/purge", "/dashboard/",
            "/gateway, /deny, /consumers (GatewayAdmin)");

    private final Gatehouse gatehouse;
    private final StateViews views;
    private final EndpointActions actions;
    private final GatewayAdmin gateway;

    AdminRoutes(Gatehouse gatehouse) {
        this.gatehouse = gatehouse;
        this.views = new StateViews(gatehouse);
        this.actions = new EndpointActions(gatehouse.events());
        this.gateway = new GatewayAdmin(gatehouse);
    }

    /** Paths anyone may GET without the token: the dashboard's static files (its API calls carry the token). */
    static boolean isPublic(HttpMethod method, String path) {
        return (method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD))
                && (path.equals("/") || path.equals("/dashboard") || path.startsWith("/dashboard/"));
    }

    CompletableFuture<FullHttpResponse> answer(HttpMethod method, String uri, ByteBuf body) {
        QueryStringDecoder query = new QueryStringDecoder(uri);
        String path = query.path();
        boolean get = method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD);
        boolean post = method.equals(HttpMethod.POST);

        CompletableFuture<FullHttpResponse> gatewayAnswer = gateway.answer(method, path, body);
        if (gatewayAnswer != null) return gatewayAnswer;
        Matcher action = ENDPOINT_ACTION.matcher(path);
        if (action.matches() && ACTIONS.contains(action.group(3))) {
            if (!post) return done(notAllowed(method, path, "POST"));
            return done(endpointAction(action.group(1), action.group(2), action.group(3), body));
        }
        if (path.equals("/cache") || path.startsWith("/cache/")) return done(cacheAnswer(method, path, body));
        if (path.equals("/reload")) {
            if (!post) return done(notAllowed(method, path, "POST"));
            return reload();
        }
        FullHttpResponse response = read(path, query);
        if (response == null) {
            return done(error(HttpResponseStatus.NOT_FOUND, "no such admin path: " + path, Map.of("paths", PATHS)));
        }
        if (!get) {
            response.release();
            return done(notAllowed(method, path, "GET"));
        }
        return done(response);
    }

    /** The GET calls; null for an unknown path. */
    private FullHttpResponse read(String path, QueryStringDecoder query) {
        switch (path) {
            case "/" -> {
                FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.FOUND, Unpooled.EMPTY_BUFFER);
                r.headers().set(HttpHeaderNames.LOCATION, "/dashboard/").setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
                return r;
            }
            case "/live" -> { return json(HttpResponseStatus.OK, Map.of("status", "live")); }
            case "/ready" -> {
                boolean ready = gatehouse.ready();
                return json(ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                        Map.of("status", ready ? "ready" : "not ready"));
            }
            case "/stats" -> { return json(HttpResponseStatus.OK, views.stats()); }
            case "/stats/history" -> { return json(HttpResponseStatus.OK, views.history()); }
            case "/listeners" -> { return json(HttpResponseStatus.OK, views.listeners()); }
            case "/routes" -> { return json(HttpResponseStatus.OK, views.routes()); }
            case "/clusters" -> { return json(HttpResponseStatus.OK, views.clusters()); }
            case "/config" -> { return json(HttpResponseStatus.OK, views.config()); }
            case "/blocks" -> { return json(HttpResponseStatus.OK, SystemBlocks.view(gatehouse)); }
            case "/events" -> { return events(query); }
            default -> { }
        }
        if (path.equals("/dashboard") || path.startsWith("/dashboard/")) {
            FullHttpResponse asset = DashboardAssets.serve(path);
            return asset != null ? asset : error(HttpResponseStatus.NOT_FOUND, "no dashboard file " + path);
        }
        Matcher cluster = CLUSTER.matcher(path);
        if (cluster.matches()) {
            Cluster c = gatehouse.cluster(cluster.group(1));
            return c == null ? unknownCluster(cluster.group(1)) : json(HttpResponseStatus.OK, StateViews.cluster(c));
        }
        return null;
    }

    private FullHttpResponse events(QueryStringDecoder query) {
        int limit = EventLog.CAPACITY;
        List<String> given = query.parameters().get("limit");
        if (given != null && !given.isEmpty()) {
            try {
                limit = Integer.parseInt(given.get(0));
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1) return error(HttpResponseStatus.BAD_REQUEST, "limit must be a whole number 1.." + EventLog.CAPACITY);
        }
        return json(HttpResponseStatus.OK, views.events(Math.min(limit, EventLog.CAPACITY)));
    }

    private FullHttpResponse endpointAction(String clusterName, String address, String action, ByteBuf body) {
        Cluster c = gatehouse.cluster(clusterName);
        if (c == null) return unknownCluster(clusterName);
        Endpoint e = c.endpoint(address);
        if (e == null) {
            return error(HttpResponseStatus.NOT_FOUND, "cluster " + clusterName + " has no endpoint " + address,
                    Map.of("endpoints", c.endpoints().stream().map(Endpoint::address).toList()));
        }
        switch (action) {
            case "drain" -> actions.drain(c, e);
            case "disable" -> actions.disable(c, e);
            case "enable" -> actions.enable(c, e);
            default -> {
                Integer weight = weightOf(body);
                if (weight == null || weight < EndpointActions.MIN_WEIGHT || weight > EndpointActions.MAX_WEIGHT) {
                    return error(HttpResponseStatus.BAD_REQUEST, "body must be {\"weight\": N} with N a whole number "
                            + EndpointActions.MIN_WEIGHT + ".." + EndpointActions.MAX_WEIGHT);
                }
                actions.weight(c, e, weight);
            }
        }
        return json(HttpResponseStatus.OK, StateViews.endpoint(c, e));
    }

    private static Integer weightOf(ByteBuf body) {
        if (body == null || !body.isReadable()) return null;
        try {
            JsonNode node = JSON.readTree((java.io.InputStream) new ByteBufInputStream(body.duplicate()));
            JsonNode w = node == null ? null : node.get("weight");
            return w != null && w.canConvertToInt() && w.isIntegralNumber() ? w.intValue() : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private CompletableFuture<FullHttpResponse> reload() {
        if (gatehouse.configFile() == null) {
            return done(error(HttpResponseStatus.CONFLICT, "gatehouse was started without a config file: nothing to reload"));
        }
        return gatehouse.reloadFromFileAsync("admin").handle((outcome, failure) -> {
            if (failure != null) return error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "reload failed: " + failure.getMessage());
            Map<String, Object> m = new LinkedHashMap<>(StateViews.reload(outcome));
            m.put("summary", outcome.summary());
            return json(outcome.applied() ? HttpResponseStatus.OK : HttpResponseStatus.BAD_REQUEST, m);
        });
    }

    private FullHttpResponse cacheAnswer(HttpMethod method, String path, ByteBuf body) {
        FullHttpResponse r = io.gatehouse.cache.CacheAdmin.answer(gatehouse.telemetry().metrics().registry(), method, path, body);
        return r != null ? r : error(HttpResponseStatus.NOT_FOUND, "no such admin path: " + path, Map.of("paths", PATHS));
    }

    private static FullHttpResponse unknownCluster(String name) {
        return error(HttpResponseStatus.NOT_FOUND, "no cluster named " + name);
    }

    private static FullHttpResponse notAllowed(HttpMethod method, String path, String allowed) {
        FullHttpResponse r = error(HttpResponseStatus.METHOD_NOT_ALLOWED, method + " " + path + " is not supported: use " + allowed);
        r.headers().set(HttpHeaderNames.ALLOW, allowed.equals("GET") ? "GET, HEAD" : allowed);
        return r;
    }

    private static CompletableFuture<FullHttpResponse> done(FullHttpResponse r) {
        return CompletableFuture.completedFuture(r);
    }

    static FullHttpResponse error(HttpResponseStatus status, String message) {
        return error(status, message, Map.of());
    }

    /**
     * An RFC 9457 problem ({@code application/problem+json}): type, title, status and detail, plus {@code error} (the
     * detail again, the member this API answered with before problem+json, kept so that existing clients still read it)
     * and any more members.
     */
    private static FullHttpResponse error(HttpResponseStatus status, String message, Map<String, Object> more) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "about:blank");
        m.put("title", status.reasonPhrase());
        m.put("status", status.code());
        m.put("detail", message);
        m.put("error", message);
        m.putAll(more);
        FullHttpResponse r = json(status, m);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/problem+json");
        return r;
    }

    static FullHttpResponse json(HttpResponseStatus status, Object body) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (Exception e) {
            status = HttpResponseStatus.INTERNAL_SERVER_ERROR;
            bytes = "{\"error\":\"cannot render the answer as JSON\"}".getBytes(StandardCharsets.UTF_8);
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        return r;
    }
}
