package io.gatehouse.admin;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import io.gatehouse.Gatehouse;
import io.gatehouse.ReloadOutcome;
import io.gatehouse.cluster.Cluster;
import io.gatehouse.cluster.Endpoint;
import io.gatehouse.cluster.TrafficStats;
import io.gatehouse.cluster.health.HealthStatus;

import io.gatehouse.listener.Listener;
import io.gatehouse.route.Route;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The JSON views of the running edge that the admin API serves (shapes in {@code docs/admin-api.md}): plain maps
 * and lists in a fixed key order, built from in-memory state without blocking, so they can be answered on an event
 * loop.
 */
final class StateViews {
    /** Seconds covered by {@link TrafficStats#recentLatency()}. */
    static final long LATENCY_WINDOW_SECONDS = TrafficStats.WINDOW_INTERVALS * Gatehouse.STATS_INTERVAL.toSeconds();
    private static final String VERSION = readVersion();
    private static final ObjectMapper CONFIG_JSON = new ObjectMapper()
            .setPropertyNamingStrategy(new YamlKeys())
            .registerModule(new SimpleModule().addSerializer(Duration.class, new DurationSerializer()));

    private final Gatehouse gatehouse;

    StateViews(Gatehouse gatehouse) {
        this.gatehouse = gatehouse;
    }

    Map<String, Object> stats() {
        long now = gatehouse.clock().currentTimeMillis();
        long requests = 0, errors = 0, endpoints = 0, available = 0;
        int inFlight = 0;
        double rate = 0;
        for (Cluster c : gatehouse.clusters().values()) {
            requests += c.traffic().requests();
            errors += c.traffic().errors();
            inFlight += c.inFlightRequests();
            rate += requestsPerSecond(c.traffic());
            long t = c.ticker().nanoTime();
            for (Endpoint e : c.endpoints()) {
                endpoints++;
                if (e.available(t)) available++;
            }
        }
        int routes = 0;
        List<Listener> listeners = gatehouse.listeners();
        for (Listener l : listeners) routes += l.routes().routes().size();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", VERSION);
        m.put("started_at", gatehouse.startedAt().toString());
        m.put("uptime_seconds", Math.max(0, (now - gatehouse.startedAt().toEpochMilli()) / 1000));
        m.put("requests_total", requests);
        m.put("errors_total", errors);
        m.put("requests_per_second", round2(rate));
        m.put("requests_in_flight", inFlight);
        m.put("listeners", listeners.size());
        m.put("routes", routes);
        m.put("clusters", gatehouse.clusters().size());
        m.put("endpoints", endpoints);
        m.put("endpoints_available", available);
        m.put("config_file", gatehouse.configFile() == null ? null : gatehouse.configFile().toString());
        m.put("last_reload", reload(gatehouse.lastReload()));
        return m;
    }

    static Map<String, Object> reload(ReloadOutcome r) {
        if (r == null) return null;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("time", r.time().toString());
        m.put("source", r.source());
        m.put("result", r.result());
        m.put("error", r.error());
        return m;
    }

    Map<String, Object> listeners() {
        List<Object> out = new ArrayList<>();
        for (Listener l : gatehouse.listeners()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("listener", l.name());
            m.put("address", io.gatehouse.config.HostPort.format(l.boundAddress()));
            m.put("routes", l.routes().routes().stream().map(Route::name).toList());
            out.add(m);
        }
        return Map.of("listeners", out);
    }

    Map<String, Object> routes() {
        List<Object> out = new ArrayList<>();
        for (Listener l : gatehouse.listeners()) {
            for (Route r : l.routes().routes()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("listener", l.name());
                m.put("route", r.name());
                m.put("match", CONFIG_JSON.valueToTree(r.config().match()));
                m.put("cluster", r.config().cluster());
                m.put("action", r.config().cluster() != null ? "proxy"
                        : r.config().directResponse() != null ? "direct_response" : r.config().files() != null ? "files" : "redirect");
                m.put("chain", r.chain());
                out.add(m);
            }
        }
        return Map.of("routes", out);
    }

    Map<String, Object> clusters() {
        List<Object> out = new ArrayList<>();
        for (Cluster c : gatehouse.clusters().values()) out.add(cluster(c));
        return Map.of("clusters", out);
    }

    static Map<String, Object> cluster(Cluster c) {
        TrafficStats t = c.traffic();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cluster", c.name());
        m.put("policy", c.config().loadBalancer().policy());
        m.put("mode", c.mode());
        m.put("endpoints_available", c.availableCount());
        m.put("requests_in_flight", c.inFlightRequests());
        m.put("connections", c.openConnections());
        m.put("idle_connections", c.idleConnections());
        m.put("pending_connections", c.pendingConnections());
        m.put("overflows", c.overflowCount());
        m.put("retry_budget_exhausted", c.retryBudgetExhaustedCount());
        m.put("requests_total", t.requests());
        m.put("errors_total", t.errors());
        Map<String, Object> responses = new LinkedHashMap<>();
        for (int i = 1; i <= 5; i++) responses.put(i + "xx", t.responses(i));
        m.put("responses", responses);
        m.put("requests_per_second", round2(requestsPerSecond(t)));
        TrafficStats.Sample last = t.lastSample();
        m.put("error_rate", last == null || last.requests() == 0 ? 0.0 : round4((double) last.errors() / last.requests()));
        m.put("latency_ms", latency(t));
        List<Object> eps = new ArrayList<>();
        for (Endpoint e : c.endpoints()) eps.add(endpoint(c, e));
        m.put("endpoints", eps);
        if (c.source() instanceof io.gatehouse.discovery.EndpointSource s) m.put("endpoint_source", s.status());
        return m;
    }

    static Map<String, Object> endpoint(Cluster c, Endpoint e) {
        long now = c.ticker().nanoTime();
        boolean ejected = e.ejected(now);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("address", e.address());
        m.put("source", e.source());
        if (!e.authority().equals(e.address())) m.put("name", e.authority());   // a resolved host name
        m.put("weight", e.weight());
        m.put("backup", e.backup());
        m.put("state", e.disabled() ? "disabled" : e.draining() ? "draining" : ejected ? "ejected"
                : !e.activeHealthy() ? "unhealthy" : "healthy");
        m.put("healthy", e.activeHealthy());
        m.put("ejected", ejected);
        m.put("ejections", e.ejections());
        m.put("draining", e.draining());
        m.put("disabled", e.disabled());
        m.put("available", e.available(now));
        m.put("in_flight", e.inFlight());
        m.put("connections", e.connections());
        m.put("requests_total", e.traffic().requests());
        m.put("errors_total", e.traffic().errors());
        m.put("requests_per_second", round2(requestsPerSecond(e.traffic())));
        m.put("latency_ms", latency(e.traffic()));
        m.put("latency_ewma_ms", round2(e.ewmaNanos() / 1e6));
        m.put("health_transitions", e.healthTransitions());
        if (c.healthChecker() != null) {
            HealthStatus s = c.healthChecker().status(e);
            if (s != null && s.lastFailureReason() != null) m.put("last_health_failure", s.lastFailureReason());
        }
        return m;
    }

    Map<String, Object> history() {
        Map<String, Object> clusters = new LinkedHashMap<>();
        for (Cluster c : gatehouse.clusters().values()) {
            Map<String, Object> endpoints = new LinkedHashMap<>();
            for (Endpoint e : c.endpoints()) endpoints.put(e.address(), samples(e.traffic()));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("samples", samples(c.traffic()));
            m.put("endpoints", endpoints);
            clusters.put(c.name(), m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("interval_seconds", Gatehouse.STATS_INTERVAL.toSeconds());
        out.put("clusters", clusters);
        return out;
    }

    private static List<Object> samples(TrafficStats t) {
        List<Object> out = new ArrayList<>();
        for (TrafficStats.Sample s : t.history()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("time", s.epochMillis());
            m.put("requests", s.requests());
            m.put("errors", s.errors());
            m.put("requests_per_second", round2(s.requestsPerSecond()));
            m.put("p50_ms", s.p50Millis());
            m.put("p99_ms", s.p99Millis());
            out.add(m);
        }
        return out;
    }

    Map<String, Object> events(int limit) {
        List<Object> out = new ArrayList<>();
        for (EventLog.Event e : gatehouse.events().newest(limit)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("time", e.time().toString());
            m.put("kind", e.kind());
            if (e.cluster() != null) m.put("cluster", e.cluster());
            if (e.endpoint() != null) m.put("endpoint", e.endpoint());
            m.put("message", e.message());
            out.add(m);
        }
        return Map.of("events", out);
    }

    /** The configuration in effect, snake_case as in the file, with secrets replaced by {@code "<redacted>"}. */
    JsonNode config() {
        JsonNode tree = CONFIG_JSON.valueToTree(gatehouse.config());
        redact(tree);
        return tree;
    }

    private static void redact(JsonNode node) {
        if (node instanceof ObjectNode o) {
            for (Map.Entry<String, JsonNode> f : o.properties()) {
                if (secret(f.getKey()) && !f.getValue().isNull()) f.setValue(o.textNode("<redacted>"));
                else redact(f.getValue());
            }
        } else if (node instanceof ArrayNode a) {
            a.forEach(StateViews::redact);
        }
    }

    /** token, password, secret, key, and names ending in them ({@code api_key}, {@code client_secret}). */
    static boolean secret(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        for (String s : List.of("token", "password", "secret", "key")) {
            if (k.equals(s) || k.endsWith("_" + s)) return true;
        }
        return false;
    }

    private static double requestsPerSecond(TrafficStats t) {
        TrafficStats.Sample s = t.lastSample();
        return s == null ? 0 : s.requestsPerSecond();
    }

    private static Map<String, Object> latency(TrafficStats t) {
        TrafficStats.Percentiles p = t.recentLatency();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("p50", p.p50Millis());
        m.put("p90", p.p90Millis());
        m.put("p99", p.p99Millis());
        m.put("max", p.maxMillis());
        m.put("window_seconds", LATENCY_WINDOW_SECONDS);
        return m;
    }

    private static double round2(double v) { return Math.round(v * 100) / 100.0; }
    private static double round4(double v) { return Math.round(v * 10000) / 10000.0; }

    /** The build's version: the jar manifest's, else the CLI's version.properties when it is on the class path. */
    private static String readVersion() {
        String v = Gatehouse.class.getPackage().getImplementationVersion();
        if (v != null) return v;
        Properties p = new Properties();
        try (InputStream in = Gatehouse.class.getResourceAsStream("/io/gatehouse/cli/version.properties")) {
            if (in != null) p.load(in);
        } catch (IOException e) {
            return "unknown";
        }
        return p.getProperty("version", "unknown");
    }

    /**
     * Keys as the config file spells them. Jackson's SNAKE_CASE keeps digits glued ({@code consecutive5xx}); the
     * file starts a new word at a digit run ({@code consecutive_5xx}), the rule of the config binder.
     */
    private static final class YamlKeys extends PropertyNamingStrategies.NamingBase {
        @Override
        public String translate(String name) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < name.length(); i++) {
                char c = name.charAt(i);
                char prev = i == 0 ? 0 : name.charAt(i - 1);
                if (i > 0 && (Character.isUpperCase(c) || (Character.isDigit(c) && !Character.isDigit(prev)))) sb.append('_');
                sb.append(Character.toLowerCase(c));
            }
            return sb.toString();
        }
    }

    /** Durations as in the config file: {@code 30s}, {@code 250ms}. */
    private static final class DurationSerializer extends StdSerializer<Duration> {
        DurationSerializer() { super(Duration.class); }

        @Override
        public void serialize(Duration d, JsonGenerator gen, SerializerProvider provider) throws IOException {
            long nanos = d.toNanos();
            String text = nanos % 1_000_000_000L == 0 ? nanos / 1_000_000_000L + "s"
                    : nanos % 1_000_000L == 0 ? nanos / 1_000_000L + "ms" : nanos + "ns";
            gen.writeString(text);
        }
    }
}
