package io.gatehouse.app.health;

import io.gatehouse.app.cache.Redis;
import io.gatehouse.app.db.Database;
import io.gatehouse.app.db.Replica;
import io.gatehouse.app.http.Json;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code /live}: the process answers (a restart is the cure otherwise). {@code /ready}: whether to send traffic.
 * Only the primary database is required; without Redis or a replica the instance still serves, more slowly, so
 * it stays ready and says "degraded" (taking every instance out because the shared cache is down would turn a
 * slowdown into an outage).
 */
public final class Readiness {
    private final String instance;
    private final Database db;
    private final Redis redis; // null when the system runs without the cache block
    private final List<Supplier<Map<String, Object>>> extra = new ArrayList<>();

    public Readiness(String instance, Database db, Redis redis) {
        this.instance = instance;
        this.db = db;
        this.redis = redis;
    }

    /** Adds a named block to the report (discovery, leadership). Returns "status": "up"/"down" in its map. */
    public void add(Supplier<Map<String, Object>> check) {
        extra.add(check);
    }

    public void routes(HttpRouting.Builder r) {
        r.get("/live", (req, res) -> Json.send(res, 200, Map.of("status", "live", "instance", instance)));
        r.get("/ready", this::ready);
    }

    public Map<String, Object> report() {
        Map<String, Object> checks = new LinkedHashMap<>();
        boolean primary = db.primaryReachable();
        checks.put("postgres", Map.of("status", primary ? "up" : "down"));
        boolean degraded = false;
        List<Map<String, Object>> replicas = new ArrayList<>();
        for (Replica r : db.replicas()) {
            replicas.add(Json.map("name", r.name(), "status", r.inReadPool() ? "up" : r.reachable() ? "lagging" : "down",
                    "lagMs", r.lag().toMillis(), "maxLagMs", db.maxReplicaLag().toMillis(),
                    "replayed", String.valueOf(r.replayed())));
            degraded |= !r.inReadPool();
        }
        if (!replicas.isEmpty()) checks.put("replicas", replicas);
        if (redis != null) {
            boolean up = redis.ping();
            checks.put("redis", Map.of("status", up ? "up" : "down"));
            degraded |= !up;
        }
        for (Supplier<Map<String, Object>> s : extra) {
            Map<String, Object> m = s.get();
            checks.put(String.valueOf(m.get("name")), m);
            degraded |= !"up".equals(m.get("status"));
        }
        String status = !primary ? "unready" : degraded ? "degraded" : "ready";
        return Json.map("status", status, "instance", instance, "checks", checks);
    }

    private void ready(ServerRequest req, ServerResponse res) {
        Map<String, Object> report = report();
        Json.send(res, "unready".equals(report.get("status")) ? 503 : 200, report);
    }
}
