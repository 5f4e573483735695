package io.gatehouse.cli.system;

import java.nio.file.Path;
import java.util.List;

/** The text {@code gatehouse up} prints: a table of what runs where, then what to try. */
public final class SystemBanner {
    private SystemBanner() {}

    public static String render(SystemStack stack, Path home, String version) {
        StringBuilder sb = new StringBuilder();
        sb.append("\nGatehouse ").append(version).append(": the system is up in ")
                .append(stack.startup().toMillis() / 100 / 10.0).append(" s, ").append(memory(home)).append("\n\n");
        List<SystemStack.Row> rows = stack.rows();
        int[] w = {"BLOCK".length(), "ENGINE".length(), "ADDRESS".length()};
        for (SystemStack.Row r : rows) {
            w[0] = Math.max(w[0], r.block().length());
            w[1] = Math.max(w[1], r.engine().length());
            w[2] = Math.max(w[2], r.address().length());
        }
        String fmt = "  %-" + w[0] + "s  %-" + w[1] + "s  %-" + w[2] + "s  %s%n";
        sb.append(String.format(fmt, "BLOCK", "ENGINE", "ADDRESS", "STATE"));
        for (SystemStack.Row r : rows) sb.append(String.format(fmt, r.block(), r.engine(), r.address(), r.state()));

        List<SystemStack.Instance> instances = stack.instances();
        String base = stack.edgeAddress() != null ? "http://localhost:" + stack.edgeAddress().getPort()
                : instances.isEmpty() ? null : "http://127.0.0.1:" + instances.get(0).port();
        if (base != null && !instances.isEmpty()) {
            SystemStack.Instance second = instances.get(Math.min(1, instances.size() - 1));
            // Through the edge, API calls carry the demo consumer's key (the edge names the user to the app, and strips
            // a user header a client sends); an app instance reached directly takes the user header itself.
            String who = stack.apiKey() != null ? "-H 'x-api-key: " + stack.apiKey() + "'" : "-H 'X-Gatehouse-User: me'";
            sb.append("\nTry it:\n")
                    .append("  curl -s -X POST ").append(base).append("/api/links ").append(who).append(" \\\n")
                    .append("       -H 'Content-Type: application/json' -d '{\"target\":\"https://example.com/\"}'   # create a link\n")
                    .append("  curl -si ").append(base).append("/CODE            # follow it: 302 to the target\n")
                    .append("  curl -s ").append(base).append("/api/links/CODE ").append(who).append("   # metadata and hits\n")
                    .append("  curl -s http://127.0.0.1:").append(second.port()).append("/metrics | grep app_cache_requests   # watch the cache hit\n")
                    .append("  curl -s http://127.0.0.1:").append(second.port()).append("/ready   # dependencies: postgres, replica lag, redis\n")
                    .append("  ./gatehouse load --target ").append(base).append("   # open-loop load: latency percentiles, hit ratio\n");
            if (second.pid() > 0 && stack.edgeAddress() != null) {
                sb.append("  kill -9 ").append(second.pid()).append("   # kill ").append(second.id())
                        .append(" for real: the edge's health check drops it, its ZooKeeper session expires, requests go to the others\n");
            } else if (stack.controlPort() > 0 && stack.edgeAddress() != null) {
                sb.append("  curl -X POST http://127.0.0.1:").append(stack.controlPort()).append("/apps/").append(second.id())
                        .append("/stop   # kill an app instance: the edge routes around it\n");
            }
            if (stack.postgres() != null && stack.postgres().hasReplica()) {
                sb.append("  ./gatehouse db promote   # fail over: fence the primary, promote the replica, repoint writes\n");
            }
            if (stack.apiKey() != null) {
                sb.append("\nAPI key of the consumer '").append(SystemStack.CONSUMER).append("' (kept in ")
                        .append(home.resolve(ApiKeyFile.NAME)).append("; `gatehouse load` finds it there)\n");
            }
            if (stack.edgeAddress() != null) {
                sb.append("The edge's configuration (generated): ").append(home.resolve("edge.yaml")).append('\n');
            }
            sb.append("Data (links survive a restart): ").append(home.resolve("postgres")).append('\n');
        }
        sb.append("Ctrl-C stops everything (edge first, then the app instances, then the engines).\n\n");
        return sb.toString();
    }

    /**
     * The whole system's resident memory: this JVM and its descendants (Redis, app instances run as processes), plus
     * each PostgreSQL server and its backends, which pg_ctl detached from us (found by their postmaster.pid). Two
     * sums: PSS, where a page shared by n processes (libjvm, the CDS archive, PostgreSQL's shared buffers in every
     * backend) counts 1/n in each, so the sum is what the system takes; and RSS, where it counts in full in each, an
     * upper bound (with instances as processes it overstates by about half a GiB).
     */
    static String memory(Path home) {
        Memory m = systemMemory(home);
        return m.pssKiB() / 1024 + " MiB of memory (PSS of this JVM, its child processes and the PostgreSQL servers; "
                + m.rssKiB() / 1024 + " MiB RSS summed over them)";
    }

    /** Resident memory in KiB: RSS (each shared page in full) and PSS (each shared page split between its users). */
    public record Memory(long rssKiB, long pssKiB) {
        public static final Memory NONE = new Memory(0, 0);

        public Memory plus(Memory other) {
            return new Memory(rssKiB + other.rssKiB, pssKiB + other.pssKiB);
        }
    }

    /** Summed over the system's processes. */
    static Memory systemMemory(Path home) {
        java.util.Set<ProcessHandle> all = new java.util.HashSet<>();
        List<ProcessHandle> roots = new java.util.ArrayList<>(List.of(ProcessHandle.current()));
        for (String server : List.of("primary", "replica")) {
            try {
                List<String> pidFile = java.nio.file.Files.readAllLines(home.resolve("postgres").resolve(server).resolve("postmaster.pid"));
                if (!pidFile.isEmpty()) ProcessHandle.of(Long.parseLong(pidFile.get(0).trim())).ifPresent(roots::add);
            } catch (java.io.IOException | RuntimeException e) {
                // not started (--blocks), or stopped
            }
        }
        for (ProcessHandle r : roots) {
            all.add(r);
            r.descendants().forEach(all::add);
        }
        Memory sum = Memory.NONE;
        for (ProcessHandle p : all) sum = sum.plus(memoryOf(p.pid()));
        return sum;
    }

    /**
     * One process, from /proc/PID/smaps_rollup (Linux 4.14+); where that cannot be read, VmRSS for both figures. A
     * process that just exited, or no /proc at all, counts nothing.
     */
    public static Memory memoryOf(long pid) {
        long rss = -1, pss = -1;
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/" + pid + "/smaps_rollup"))) {
                if (line.startsWith("Rss:")) rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
                else if (line.startsWith("Pss:")) pss = Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (java.io.IOException | RuntimeException e) {
            // fall back on VmRSS below
        }
        if (rss >= 0 && pss >= 0) return new Memory(rss, pss);
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    long k = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    return new Memory(k, k);
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // a child that just exited, or no /proc
        }
        return Memory.NONE;
    }
}
