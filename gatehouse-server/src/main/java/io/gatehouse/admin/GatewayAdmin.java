package io.gatehouse.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.gatehouse.Gatehouse;
import io.gatehouse.auth.ConsumerStore;
import io.gatehouse.config.ConsumerConfig;
import io.gatehouse.config.Durations;
import io.gatehouse.config.FilterConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.config.RouteConfig;
import io.gatehouse.deny.DenyEntry;
import io.gatehouse.deny.DenyList;
import io.gatehouse.filter.Filter;
import io.gatehouse.http.LocalResponse;
import io.gatehouse.listener.Listener;
import io.gatehouse.ratelimit.Quota;
import io.gatehouse.redis.Redis;
import io.gatehouse.route.Route;
import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The API gateway's admin calls (see {@code docs/admin-api.md}): the shared deny list, the consumers (configured and
 * managed at runtime in Redis, with their usage on this edge and what is left of their quotas), and the gateway view
 * of the dashboard (each route's authentication and limits, the top consumers). Errors are
 * {@code application/problem+json}. Redis calls are asynchronous and bounded by the Redis timeout: the admin event
 * loop never waits.
 */
final class GatewayAdmin {
    static final List<String> PATHS = List.of("/deny", "POST /deny", "DELETE /deny/{id}", "/consumers", "/consumers/{name}",
            "POST /consumers", "POST /consumers/{name}/keys|disable|enable", "DELETE /consumers/{name}", "/gateway");
    /** How long the old keys keep working after a rotation, unless the call says otherwise. */
    static final Duration DEFAULT_OVERLAP = Duration.ofHours(24);
    private static final int TOP = 10;

    private final Gatehouse gatehouse;

    GatewayAdmin(Gatehouse gatehouse) {
        this.gatehouse = gatehouse;
    }

    /** The answer for a gateway path, or null when {@code path} is not one. */
    CompletableFuture<FullHttpResponse> answer(HttpMethod method, String path, ByteBuf body) {
        boolean get = method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD);
        boolean post = method.equals(HttpMethod.POST);
        boolean delete = method.equals(HttpMethod.DELETE);
        if (path.equals("/gateway")) return get ? done(AdminRoutes.json(HttpResponseStatus.OK, gateway())) : notAllowed(method, path, "GET");
        if (path.equals("/deny")) {
            if (get) return withRedis(r -> done(AdminRoutes.json(HttpResponseStatus.OK, denyList(DenyList.of(r)))));
            if (post) return withRedis(r -> addDeny(DenyList.of(r), body));
            return notAllowed(method, path, "GET, POST");
        }
        if (path.startsWith("/deny/")) {
            String id = path.substring("/deny/".length());
            if (!delete) return notAllowed(method, path, "DELETE");
            return withRedis(r -> DenyList.of(r).remove(id).handle((removed, e) -> {
                if (e != null) return redisFailed(e);
                return removed ? AdminRoutes.json(HttpResponseStatus.OK, Map.of("removed", id))
                        : problem(HttpResponseStatus.NOT_FOUND, "not_found", "the deny list has no entry " + id);
            }));
        }
        if (path.equals("/consumers")) {
            if (get) return consumers();
            if (post) return withRedis(r -> createConsumer(ConsumerStore.of(r), body));
            return notAllowed(method, path, "GET, POST");
        }
        if (path.startsWith("/consumers/")) {
            String[] parts = path.substring("/consumers/".length()).split("/", -1);
            String name = parts[0];
            if (parts.length == 1) {
                if (get) return consumer(name);
                if (delete) return withRedis(r -> runtimeOnly(name, () -> ConsumerStore.of(r).delete(name)
                        .thenApply(v -> AdminRoutes.json(HttpResponseStatus.OK, Map.of("deleted", name)))));
                return notAllowed(method, path, "GET, DELETE");
            }
            if (parts.length == 2 && List.of("keys", "disable", "enable").contains(parts[1])) {
                if (!post) return notAllowed(method, path, "POST");
                return withRedis(r -> consumerAction(ConsumerStore.of(r), name, parts[1], body));
            }
            return done(problem(HttpResponseStatus.NOT_FOUND, "not_found", "no admin path " + path));
        }
        return null;
    }

    // ---- the deny list

    private static Map<String, Object> denyList(DenyList list) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", list.version());
        m.put("entries", list.entries().stream().map(DenyList::toJson).toList());
        return m;
    }

    private CompletableFuture<FullHttpResponse> addDeny(DenyList list, ByteBuf body) {
        DenyEntry entry;
        try {
            JsonNode n = parse(body);
            JsonNode ttl = n.get("ttl");
            Instant now = gatehouse.clock().instant();
            Instant expires = null;
            if (ttl != null && !ttl.isNull()) {
                Duration d = Durations.parse(ttl.asText());
                if (d.isZero()) throw new IllegalArgumentException("ttl: more than 0, or leave it out for an entry that stays");
                expires = now.plus(d);
            }
            if (n.has("added") || n.has("expires") || n.has("id")) throw new IllegalArgumentException("added, expires and id are set by Gatehouse: give ttl instead");
            com.fasterxml.jackson.databind.node.ObjectNode copy = ((com.fasterxml.jackson.databind.node.ObjectNode) n).deepCopy();
            copy.remove("ttl");
            for (var it = copy.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!List.of("type", "value", "header", "reason").contains(f)) throw new IllegalArgumentException(f + ": unknown field (type, value, header, reason, ttl)");
            }
            DenyEntry given = DenyList.fromJson(copy);
            entry = new DenyEntry(given.type(), given.value(), given.header(), given.reason(), now, expires);
        } catch (IllegalArgumentException e) {
            return done(problem(HttpResponseStatus.BAD_REQUEST, "invalid_request", e.getMessage()));
        }
        gatehouse.events().record("deny", null, null, "deny list: added " + entry.id());
        return list.add(entry).handle((v, e) -> e != null ? redisFailed(e) : AdminRoutes.json(HttpResponseStatus.CREATED, DenyList.toJson(entry)));
    }

    // ---- consumers

    private CompletableFuture<FullHttpResponse> createConsumer(ConsumerStore store, ByteBuf body) {
        ConsumerConfig c;
        try {
            c = ConsumerStore.fromJson(parse(body));
            if (!c.apiKeys().isEmpty()) throw new IllegalArgumentException("api_keys: Gatehouse makes the key (shown once in the answer)");
        } catch (IllegalArgumentException e) {
            return done(problem(HttpResponseStatus.BAD_REQUEST, "invalid_request", e.getMessage()));
        }
        if (configured(c.name()) != null) {
            return done(problem(HttpResponseStatus.CONFLICT, "conflict", "consumer " + c.name() + " is in the configuration; change it there"));
        }
        return store.create(c).handle((made, e) -> {
            if (e != null) return failed(e);
            gatehouse.events().record("consumer", null, null, "consumer " + made.consumer().name() + " created");
            return AdminRoutes.json(HttpResponseStatus.CREATED, withKey(made));
        });
    }

    private CompletableFuture<FullHttpResponse> consumerAction(ConsumerStore store, String name, String action, ByteBuf body) {
        return runtimeOnly(name, () -> switch (action) {
            case "keys" -> {
                Duration overlap;
                try {
                    JsonNode n = body == null || !body.isReadable() ? null : parse(body);
                    JsonNode o = n == null ? null : n.get("overlap");
                    overlap = o == null || o.isNull() ? DEFAULT_OVERLAP : Durations.parse(o.asText());
                } catch (IllegalArgumentException e) {
                    yield done(problem(HttpResponseStatus.BAD_REQUEST, "invalid_request", e.getMessage()));
                }
                yield store.rotate(name, overlap, gatehouse.clock().instant()).thenApply(made -> {
                    gatehouse.events().record("consumer", null, null, "consumer " + name + ": key rotated, old keys work for " + overlap);
                    return AdminRoutes.json(HttpResponseStatus.OK, withKey(made));
                });
            }
            default -> store.disabled(name, action.equals("disable")).thenApply(c -> {
                gatehouse.events().record("consumer", null, null, "consumer " + name + " " + action + "d");
                return AdminRoutes.json(HttpResponseStatus.OK, ConsumerStore.toJson(c));
            });
        });
    }

    private static Map<String, Object> withKey(ConsumerStore.WithKey made) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("consumer", ConsumerStore.toJson(made.consumer()));
        m.put("api_key", made.apiKey());
        m.put("note", "the key is shown only now; Gatehouse keeps its SHA-256");
        return m;
    }

    /** Runs {@code call} for a consumer that may change at runtime; a configured one is answered 409. */
    private CompletableFuture<FullHttpResponse> runtimeOnly(String name, java.util.function.Supplier<CompletableFuture<FullHttpResponse>> call) {
        if (configured(name) != null) {
            return done(problem(HttpResponseStatus.CONFLICT, "conflict", "consumer " + name + " is in the configuration; change it there"));
        }
        return call.get().handle((r, e) -> e == null ? r : failed(e));
    }

    private ConsumerConfig configured(String name) {
        for (ConsumerConfig c : gatehouse.config().consumers()) if (c.name().equals(name)) return c;
        return null;
    }

    /** Every consumer (configured ones, then runtime ones), with its usage on this edge and its quotas. */
    private CompletableFuture<FullHttpResponse> consumers() {
        Map<String, Map<String, Object>> all = new TreeMap<>();
        for (ConsumerConfig c : gatehouse.config().consumers()) all.put(c.name(), describe(c, "config"));
        Redis redis = gatehouse.redis();
        if (redis != null) {
            for (ConsumerConfig c : ConsumerStore.of(redis).snapshot().consumers().values()) all.putIfAbsent(c.name(), describe(c, "runtime"));
        }
        return withQuotas(new ArrayList<>(all.values())).thenApply(list -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("consumers", list);
            if (redis != null) m.put("version", ConsumerStore.of(redis).snapshot().version());
            return AdminRoutes.json(HttpResponseStatus.OK, m);
        });
    }

    private CompletableFuture<FullHttpResponse> consumer(String name) {
        ConsumerConfig c = configured(name);
        String source = "config";
        Redis redis = gatehouse.redis();
        if (c == null && redis != null) {
            c = ConsumerStore.of(redis).snapshot().consumers().get(name);
            source = "runtime";
        }
        if (c == null) return done(problem(HttpResponseStatus.NOT_FOUND, "not_found", "no consumer named " + name));
        return withQuotas(List.of(describe(c, source))).thenApply(l -> AdminRoutes.json(HttpResponseStatus.OK, l.get(0)));
    }

    private Map<String, Object> describe(ConsumerConfig c, String source) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", c.name());
        m.put("source", source);
        m.put("plan", c.plan());
        m.put("groups", c.groups());
        m.put("disabled", c.disabled());
        Instant now = gatehouse.clock().instant();
        m.put("api_keys", c.apiKeys().stream().filter(k -> k.expires() == null || k.expires().isAfter(now)).count());
        m.put("usage", usage().getOrDefault(c.name(), Usage.NONE).toJson());
        return m;
    }

    /** Adds each quota route's counts to each consumer (one round trip per consumer and quota, all at once). */
    private CompletableFuture<List<Map<String, Object>>> withQuotas(List<Map<String, Object>> consumers) {
        List<Map.Entry<String, Quota>> quotas = quotaFilters();
        Redis redis = gatehouse.redis();
        if (quotas.isEmpty() || redis == null) return CompletableFuture.completedFuture(consumers);
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (Map<String, Object> c : consumers) {
            List<Map<String, Object>> qs = java.util.Collections.synchronizedList(new ArrayList<>());
            c.put("quotas", qs);
            for (Map.Entry<String, Quota> q : quotas) {
                if (q.getValue().config().key() != io.gatehouse.config.QuotaConfig.Key.CONSUMER) continue;
                pending.add(q.getValue().usage(q.getKey(), (String) c.get("name"))
                        .handle((u, e) -> qs.add(e == null ? u : Map.of("route", q.getKey(), "error", "redis: " + cause(e).getMessage()))));
            }
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).handle((v, e) -> {
            for (Map<String, Object> c : consumers) {
                @SuppressWarnings("unchecked") List<Map<String, Object>> qs = (List<Map<String, Object>>) c.get("quotas");
                qs.sort(Comparator.comparing(q -> String.valueOf(q.get("route"))));
            }
            return consumers;
        });
    }

    /** Each route's quota filters, named listener/route. */
    private List<Map.Entry<String, Quota>> quotaFilters() {
        List<Map.Entry<String, Quota>> out = new ArrayList<>();
        for (Listener l : gatehouse.listeners()) {
            for (Route r : l.routes().routes()) {
                for (Filter f : r.filters()) if (f instanceof Quota q) out.add(Map.entry(l.config().name() + "/" + r.name(), q));
            }
        }
        return out;
    }

    /** One consumer's requests on this edge since it started (from the metering counters). */
    private record Usage(long requests, long ok, long clientErrors, long serverErrors, long limited) {
        static final Usage NONE = new Usage(0, 0, 0, 0, 0);

        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("requests", requests);
            m.put("2xx", ok);
            m.put("4xx", clientErrors);
            m.put("5xx", serverErrors);
            m.put("limited", limited);
            return m;
        }
    }

    private Map<String, Usage> usage() {
        var registry = gatehouse.telemetry().metrics().registry();
        Map<String, long[]> sums = new java.util.HashMap<>();
        for (Counter c : registry.find("gatehouse.consumer.requests").counters()) {
            long[] s = sums.computeIfAbsent(c.getId().getTag("consumer"), k -> new long[5]);
            long n = (long) c.count();
            s[0] += n;
            switch (String.valueOf(c.getId().getTag("status_class"))) {
                case "2xx" -> s[1] += n;
                case "4xx" -> s[2] += n;
                case "5xx" -> s[3] += n;
                default -> { }
            }
        }
        for (Counter c : registry.find("gatehouse.consumer.limited").counters()) {
            sums.computeIfAbsent(c.getId().getTag("consumer"), k -> new long[5])[4] += (long) c.count();
        }
        Map<String, Usage> out = new java.util.HashMap<>();
        sums.forEach((k, s) -> out.put(k, new Usage(s[0], s[1], s[2], s[3], s[4])));
        return out;
    }

    // ---- the dashboard's gateway view

    /** Each route's authentication, authorization and limits, and the consumers with the most requests. */
    private Map<String, Object> gateway() {
        List<Map<String, Object>> routes = new ArrayList<>();
        for (ListenerConfig lc : gatehouse.config().listeners()) {
            for (RouteConfig rc : lc.routes()) {
                List<FilterConfig> filters = new ArrayList<>();
                if (rc.inheritFilters()) filters.addAll(lc.filters());
                filters.addAll(rc.filters());
                List<Map<String, Object>> auth = new ArrayList<>();
                List<Map<String, Object>> limits = new ArrayList<>();
                for (FilterConfig f : filters) {
                    Map<String, Object> d = GatewayViews.describe(f);
                    if (d == null) continue;
                    (GatewayViews.isLimit(f.type()) ? limits : auth).add(d);
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("listener", lc.name());
                m.put("route", rc.name());
                m.put("auth", auth);
                m.put("limits", limits);
                routes.add(m);
            }
        }
        List<Map<String, Object>> top = new ArrayList<>();
        Map<String, Usage> usage = usage();
        // anonymous (no identity) and unknown (a token naming nobody we know) are not consumers: counted apart
        usage.entrySet().stream()
                .filter(e -> !e.getKey().equals("anonymous") && !e.getKey().equals("unknown"))
                .sorted(Map.Entry.<String, Usage>comparingByValue(Comparator.comparingLong(Usage::requests)).reversed()
                        .thenComparing(Map.Entry::getKey))
                .limit(TOP)
                .forEach(e -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("consumer", e.getKey());
                    m.putAll(e.getValue().toJson());
                    top.add(m);
                });
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("routes", routes);
        out.put("top_consumers", top);
        out.put("anonymous_requests", usage.getOrDefault("anonymous", Usage.NONE).requests());
        out.put("unknown_consumer_requests", usage.getOrDefault("unknown", Usage.NONE).requests());
        Redis redis = gatehouse.redis();
        out.put("redis", redis == null ? null : Map.of("address", redis.config().describe(), "up", redis.up()));
        out.put("consumers", gatehouse.config().consumers().size()
                + (redis == null ? 0 : ConsumerStore.of(redis).snapshot().consumers().size()));
        out.put("deny_entries", redis == null ? 0 : DenyList.of(redis).entries().size());
        return out;
    }

    // ---- plumbing

    private CompletableFuture<FullHttpResponse> withRedis(java.util.function.Function<Redis, CompletableFuture<FullHttpResponse>> call) {
        Redis redis = gatehouse.redis();
        if (redis == null) {
            return done(problem(HttpResponseStatus.CONFLICT, "no_redis", "this needs a redis: section in the configuration"));
        }
        return call.apply(redis);
    }

    private static JsonNode parse(ByteBuf body) {
        if (body == null || !body.isReadable()) throw new IllegalArgumentException("body: a JSON object is required");
        try {
            JsonNode n = AdminRoutes.JSON.readTree((java.io.InputStream) new ByteBufInputStream(body.duplicate()));
            if (n == null || !n.isObject()) throw new IllegalArgumentException("body: a JSON object is required");
            return n;
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("body: not JSON (" + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()) + ")");
        }
    }

    private static Throwable cause(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    private static FullHttpResponse failed(Throwable e) {
        Throwable c = cause(e);
        if (c instanceof ConsumerStore.Conflict) return problem(HttpResponseStatus.CONFLICT, "conflict", c.getMessage());
        if (c instanceof ConsumerStore.NotFound) return problem(HttpResponseStatus.NOT_FOUND, "not_found", c.getMessage());
        if (c instanceof IllegalArgumentException) return problem(HttpResponseStatus.BAD_REQUEST, "invalid_request", c.getMessage());
        return redisFailed(c);
    }

    private static FullHttpResponse redisFailed(Throwable e) {
        return problem(HttpResponseStatus.SERVICE_UNAVAILABLE, "redis_unavailable", "Redis did not answer: " + cause(e).getMessage());
    }

    static FullHttpResponse problem(HttpResponseStatus status, String reason, String detail) {
        FullHttpResponse r = LocalResponse.problem(status, reason, detail);
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        return r;
    }

    private static CompletableFuture<FullHttpResponse> notAllowed(HttpMethod method, String path, String allowed) {
        FullHttpResponse r = problem(HttpResponseStatus.METHOD_NOT_ALLOWED, "method_not_allowed",
                method + " " + path + " is not supported: use " + allowed);
        r.headers().set(HttpHeaderNames.ALLOW, allowed.startsWith("GET") ? allowed.replaceFirst("GET", "GET, HEAD") : allowed);
        return done(r);
    }

    private static CompletableFuture<FullHttpResponse> done(FullHttpResponse r) {
        return CompletableFuture.completedFuture(r);
    }
}
