package io.gatehouse.metering;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.auth.Identity;
import io.gatehouse.clock.Clock;
import io.gatehouse.config.ConsumerConfig;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.MeteringConfig;
import io.gatehouse.http.HttpExchange;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per consumer and route: requests, status classes, bytes both ways, latency and limit rejections. Recorded on the
 * event loop with adders (no locks, no I/O); windows are closed and appended to the metering log by one background
 * thread. One per process: a reload swaps the known consumers, never the windows.
 */
public final class Metering implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Metering.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Key(long window, String consumer, String route) {}

    /** One window's counts for one consumer and route. */
    static final class Usage {
        final LongAdder requests = new LongAdder(), s1 = new LongAdder(), s2 = new LongAdder(), s3 = new LongAdder(),
                s4 = new LongAdder(), s5 = new LongAdder(), bytesIn = new LongAdder(), bytesOut = new LongAdder(),
                latencyNanos = new LongAdder(), limited = new LongAdder();
    }

    private record Meters(Counter requests, Counter bytesIn, Counter bytesOut, Counter limited, io.micrometer.core.instrument.Timer latency) {}

    /**
     * The latency histogram's buckets: a fixed few (not Micrometer's ~70 percentile buckets), as there is one
     * histogram per consumer and route.
     */
    private static final Duration[] LATENCY_BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
            Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)};

    private final MeteringConfig config;
    private final Clock clock;
    private final MeterRegistry registry;
    private final long windowMillis;
    private final ConcurrentHashMap<Key, Usage> open = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Meters> meters = new ConcurrentHashMap<>();
    private volatile Set<String> consumers;
    private final ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gatehouse-metering");
        t.setDaemon(true);
        return t;
    });

    public Metering(MeteringConfig config, GatehouseConfig whole, Clock clock, MeterRegistry registry) {
        this.config = config;
        this.clock = clock;
        this.registry = registry;
        this.windowMillis = config.interval().toMillis();
        consumers(whole);
        long every = Math.min(windowMillis, 5_000);
        writer.scheduleWithFixedDelay(() -> flush(false), every, every, TimeUnit.MILLISECONDS);
    }

    /** The consumers of the configuration now in force: their names are the only consumer labels. */
    public void consumers(GatehouseConfig whole) {
        Set<String> names = new java.util.HashSet<>();
        for (ConsumerConfig c : whole.consumers()) names.add(c.name());
        this.consumers = Set.copyOf(names);
    }

    public MeteringConfig config() {
        return config;
    }

    /** One exchange ended. On the event loop: a map lookup and adders. */
    public void record(HttpExchange ex) {
        Identity id = ex.attribute(Identity.KEY);
        String consumer = id == null || id.consumer() == null ? "anonymous"
                : id.knownConsumer() || consumers.contains(id.consumer()) ? id.consumer() : "unknown";
        String route = ex.route() == null ? "unrouted" : ex.route().name();
        long window = clock.currentTimeMillis() / windowMillis * windowMillis;
        Usage u = open.computeIfAbsent(new Key(window, consumer, route), k -> new Usage());
        int status = ex.status();
        u.requests.increment();
        switch (status / 100) {
            case 1 -> u.s1.increment();
            case 2 -> u.s2.increment();
            case 3 -> u.s3.increment();
            case 4 -> u.s4.increment();
            default -> u.s5.increment();
        }
        u.bytesIn.add(ex.requestBodyBytes());
        u.bytesOut.add(ex.responseBytes());
        u.latencyNanos.add(ex.endNanos() - ex.startNanos());
        String reason = ex.failureReason();
        boolean limited = "rate_limited".equals(reason) || "concurrency_limited".equals(reason);
        if (limited) u.limited.increment();
        if (registry != null) {
            Meters m = meters.computeIfAbsent(consumer + "\0" + route + "\0" + (status / 100), k -> new Meters(
                    Counter.builder("gatehouse.consumer.requests").tag("consumer", consumer).tag("route", route)
                            .tag("status_class", (status / 100) + "xx").register(registry),
                    Counter.builder("gatehouse.consumer.received").baseUnit("bytes").tag("consumer", consumer).tag("route", route).register(registry),
                    Counter.builder("gatehouse.consumer.sent").baseUnit("bytes").tag("consumer", consumer).tag("route", route).register(registry),
                    Counter.builder("gatehouse.consumer.limited").tag("consumer", consumer).tag("route", route).register(registry),
                    io.micrometer.core.instrument.Timer.builder("gatehouse.consumer.latency")
                            .description("Time from the request's start to the response's end, per consumer and route")
                            .serviceLevelObjectives(LATENCY_BUCKETS).tag("consumer", consumer).tag("route", route).register(registry)));
            m.requests().increment();
            m.bytesIn().increment(ex.requestBodyBytes());
            m.bytesOut().increment(ex.responseBytes());
            if (limited) m.limited().increment();
            m.latency().record(ex.endNanos() - ex.startNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /** Appends the windows that are over (all of them when {@code all}) to the log. */
    synchronized void flush(boolean all) {
        long current = clock.currentTimeMillis() / windowMillis * windowMillis;
        List<Map.Entry<Key, Usage>> done = new ArrayList<>();
        for (Map.Entry<Key, Usage> e : open.entrySet()) {
            if (all || e.getKey().window() < current) done.add(e);
        }
        if (done.isEmpty()) return;
        done.sort(java.util.Comparator.comparingLong((Map.Entry<Key, Usage> e) -> e.getKey().window())
                .thenComparing(e -> e.getKey().consumer()).thenComparing(e -> e.getKey().route()));
        try (Writer w = Files.newBufferedWriter(Path.of(config.path()), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            for (Map.Entry<Key, Usage> e : done) {
                // removed before it is written: a late increment lands in a fresh entry of the same window, written next time
                open.remove(e.getKey(), e.getValue());
                w.write(line(e.getKey(), e.getValue()));
                w.write('\n');
            }
        } catch (IOException ex) {
            log.warn("metering: cannot append to {}: {} (the windows are kept and retried)", config.path(), ex.toString());
            for (Map.Entry<Key, Usage> e : done) open.merge(e.getKey(), e.getValue(), Metering::sum);
        }
    }

    private static Usage sum(Usage a, Usage b) {
        a.requests.add(b.requests.sum());
        a.s1.add(b.s1.sum());
        a.s2.add(b.s2.sum());
        a.s3.add(b.s3.sum());
        a.s4.add(b.s4.sum());
        a.s5.add(b.s5.sum());
        a.bytesIn.add(b.bytesIn.sum());
        a.bytesOut.add(b.bytesOut.sum());
        a.latencyNanos.add(b.latencyNanos.sum());
        a.limited.add(b.limited.sum());
        return a;
    }

    private String line(Key k, Usage u) throws IOException {
        java.io.StringWriter out = new java.io.StringWriter();
        try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
            long n = u.requests.sum();
            g.writeStartObject();
            g.writeStringField("window_start", Instant.ofEpochMilli(k.window()).toString());
            g.writeNumberField("window_seconds", windowMillis / 1000);
            g.writeStringField("consumer", k.consumer());
            g.writeStringField("route", k.route());
            g.writeNumberField("requests", n);
            g.writeObjectFieldStart("status");
            if (u.s1.sum() > 0) g.writeNumberField("1xx", u.s1.sum());
            if (u.s2.sum() > 0) g.writeNumberField("2xx", u.s2.sum());
            if (u.s3.sum() > 0) g.writeNumberField("3xx", u.s3.sum());
            if (u.s4.sum() > 0) g.writeNumberField("4xx", u.s4.sum());
            if (u.s5.sum() > 0) g.writeNumberField("5xx", u.s5.sum());
            g.writeEndObject();
            g.writeNumberField("bytes_in", u.bytesIn.sum());
            g.writeNumberField("bytes_out", u.bytesOut.sum());
            g.writeNumberField("latency_ms_avg", n == 0 ? 0 : Math.round(u.latencyNanos.sum() / 1e4 / n) / 100.0);
            g.writeNumberField("limited", u.limited.sum());
            g.writeEndObject();
        }
        return out.toString();
    }

    /** Writes every open window, then stops. */
    @Override
    public void close() {
        writer.shutdown();
        flush(true);
    }
}
