package io.gatehouse.cli.system;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Where the servers' CPU goes, read from {@code /proc}: the first process's threads grouped by what they serve (the
 * edge's event loops, the app's virtual-thread carriers, the Redis client, ZooKeeper, the JIT, GC), every other
 * process and descendant by its command (redis-server, postgres). With all blocks in one JVM, this is how the cost
 * of each hop is told apart in one run. In clock ticks (1/100 s); threads that ended in between are not counted.
 */
final class CpuParts {
    private CpuParts() {}

    /** Thread name prefix → part. Thread names are cut to 15 characters by the kernel. */
    private static final List<Map.Entry<String, String>> GROUPS = List.of(
            Map.entry("gatehouse-", "edge"),
            Map.entry("ForkJoinPool-", "app (request handlers, JDBC)"),
            Map.entry("server-@", "app (request handlers, JDBC)"),
            Map.entry("helidon-", "app (request handlers, JDBC)"),
            Map.entry("lettuce-", "redis client"),
            Map.entry("C2 Compiler", "jit"),
            Map.entry("C1 Compiler", "jit"),
            Map.entry("GC ", "gc"),
            Map.entry("VM Thread", "gc"),
            Map.entry("replica-", "db pools and replica monitor"),
            Map.entry("primary:", "db pools and replica monitor"),
            Map.entry("jobs-", "leader jobs"),
            Map.entry("Curator", "zookeeper (server and clients)"),
            Map.entry("NIO", "zookeeper (server and clients)"),
            Map.entry("SyncThread", "zookeeper (server and clients)"),
            Map.entry("SessionTracker", "zookeeper (server and clients)"),
            Map.entry("ProcessThread", "zookeeper (server and clients)"),
            Map.entry("RequestThrottl", "zookeeper (server and clients)"),
            Map.entry("zkservermainru", "zookeeper (server and clients)"));

    static String group(String thread) {
        if (thread.contains("-SendThread") || thread.contains("-EventThread")) return "zookeeper (server and clients)";
        for (Map.Entry<String, String> g : GROUPS) {
            if (thread.startsWith(g.getKey())) return g.getValue();
        }
        return "jvm other";
    }

    /** Ticks per part now, for {@code pids} (the first one split by thread) and all their descendants. */
    static Map<String, Long> sample(List<Long> pids) {
        Map<String, Long> out = new TreeMap<>();
        for (int i = 0; i < pids.size(); i++) {
            ProcessHandle root = ProcessHandle.of(pids.get(i)).orElse(null);
            if (root == null) continue;
            if (i == 0) {
                threads(root.pid(), out);
            } else {
                out.merge(part(root), ticks(Path.of("/proc", Long.toString(root.pid()), "stat")), Long::sum);
            }
            for (ProcessHandle d : root.descendants().toList()) {
                out.merge(part(d), ticks(Path.of("/proc", Long.toString(d.pid()), "stat")), Long::sum);
            }
        }
        return out;
    }

    private static String part(ProcessHandle p) {
        String command = p.info().command().orElse("?");
        return "process " + command.substring(command.lastIndexOf('/') + 1);
    }

    private static void threads(long pid, Map<String, Long> out) {
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path t : tasks) {
                String name;
                try {
                    name = Files.readString(t.resolve("comm")).strip();
                } catch (IOException e) {
                    continue; // the thread ended
                }
                out.merge(group(name), ticks(t.resolve("stat")), Long::sum);
            }
        } catch (IOException e) {
            // the process ended
        }
    }

    /** utime + stime of a /proc stat file (fields 14 and 15, counted after the command's closing parenthesis). */
    static long ticks(Path stat) {
        try {
            String s = Files.readString(stat);
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    static Map<String, Long> minus(Map<String, Long> after, Map<String, Long> before) {
        Map<String, Long> out = new TreeMap<>();
        after.forEach((k, v) -> out.put(k, Math.max(0, v - before.getOrDefault(k, 0L))));
        return out;
    }

    /** "edge 120, app … 300, …", largest first, in microseconds per request (a tick is 10 ms). */
    static String format(Map<String, Long> ticks, long requests) {
        Map<String, Long> sorted = ticks.entrySet().stream().filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new));
        return sorted.entrySet().stream()
                .map(e -> String.format("%s %.1f", e.getKey(), e.getValue() * 10_000.0 / requests))
                .collect(Collectors.joining(", "));
    }
}
