package io.gatehouse.cli.system;

import io.gatehouse.app.App;

import java.nio.file.Path;
import java.util.List;

/** The text {@code gatehouse up} prints: a table of what runs where, then what to try. */
public final class SystemBanner {
    private SystemBanner() {}

    public static String render(SystemStack stack, Path home, String version) {
        StringBuilder sb = new StringBuilder();
        sb.append("\nGatehouse ").append(version).append(": the system is up in ")
                .append(stack.startup().toMillis() / 100 / 10.0).append(" s, ").append(rssMiB()).append(" MiB RSS (this JVM and its engines)\n\n");
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

        String base = stack.edgeAddress() != null ? "http://localhost:" + stack.edgeAddress().getPort()
                : stack.apps().isEmpty() ? null : "http://127.0.0.1:" + stack.apps().get(0).port();
        if (base != null && !stack.apps().isEmpty()) {
            App second = stack.apps().get(Math.min(1, stack.apps().size() - 1));
            sb.append("\nTry it:\n")
                    .append("  curl -s -X POST ").append(base).append("/api/links -H 'X-Gatehouse-User: me' \\\n")
                    .append("       -H 'Content-Type: application/json' -d '{\"target\":\"https://example.com/\"}'   # create a link\n")
                    .append("  curl -si ").append(base).append("/CODE            # follow it: 302 to the target\n")
                    .append("  curl -s ").append(base).append("/api/links/CODE -H 'X-Gatehouse-User: me'   # metadata and hits\n")
                    .append("  curl -s http://127.0.0.1:").append(second.port()).append("/metrics | grep app_cache_requests   # watch the cache hit\n")
                    .append("  curl -s http://127.0.0.1:").append(second.port()).append("/ready   # dependencies: postgres, replica lag, redis\n")
                    .append("  ./gatehouse load --target ").append(base).append("   # open-loop load: latency percentiles, hit ratio\n");
            if (stack.controlPort() > 0 && stack.edgeAddress() != null) {
                sb.append("  curl -X POST http://127.0.0.1:").append(stack.controlPort()).append("/apps/").append(second.instanceId())
                        .append("/stop   # kill an app instance: the edge routes around it\n");
            }
            if (stack.postgres() != null && stack.postgres().hasReplica()) {
                sb.append("  ./gatehouse db promote   # fail over: fence the primary, promote the replica, repoint writes\n");
            }
            if (stack.edgeAddress() != null) {
                sb.append("\nThe edge's configuration (generated): ").append(home.resolve("edge.yaml")).append('\n');
            }
            sb.append("Data (links survive a restart): ").append(home.resolve("postgres")).append('\n');
        }
        sb.append("Ctrl-C stops everything (edge first, then the app instances, then the engines).\n\n");
        return sb.toString();
    }

    private static long rssMiB() {
        long kib = rssKiB(ProcessHandle.current());
        for (ProcessHandle child : ProcessHandle.current().descendants().toList()) kib += rssKiB(child);
        return kib / 1024;
    }

    private static long rssKiB(ProcessHandle p) {
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/" + p.pid() + "/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (java.io.IOException | RuntimeException e) {
            // a child that just exited, or no /proc: count nothing for it
        }
        return 0;
    }
}
