package io.gatehouse.telemetry;

import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.MeterRegistry;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;

/**
 * Garbage collections per collector, read from the JVM's counters at each scrape: {@code jvm_gc_collection_seconds}
 * with {@code _count} and {@code _sum} (the names Prometheus's own JVM client uses), tagged {@code gc}.
 *
 * <p>Why not Micrometer's {@code JvmGcMetrics}: it listens for GC notifications, so after every young collection the
 * JVM's notification thread builds JMX composite data and runs the listener, and that code keeps getting compiled by
 * C2 long after warm-up. On a proxy pinned to one core, both took the core from the event loop for milliseconds at a
 * time, a few times a second, and it showed in the p99 (bench/results/2026-11-24-session7.md). Polling costs nothing
 * between scrapes.
 */
final class JvmGcMeters {
    private JvmGcMeters() {}

    static void bindTo(MeterRegistry registry) {
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            FunctionTimer.builder("jvm.gc.collection", gc,
                            b -> Math.max(0, b.getCollectionCount()), b -> Math.max(0, b.getCollectionTime()), TimeUnit.MILLISECONDS)
                    .tag("gc", gc.getName())
                    .description("Collections by this collector and the time they took (stop-the-world or not, as the collector counts it)")
                    .register(registry);
        }
    }
}
