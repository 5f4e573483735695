package io.gatehouse.app.bench;

import io.gatehouse.app.App;
import io.gatehouse.app.AppConfig;
import io.gatehouse.app.cache.EmbeddedRedis;
import io.gatehouse.app.db.EmbeddedPostgresCluster;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One app instance's cost per redirect in counts that do not depend on a busy machine (not a test): bytes allocated
 * and context switches of this JVM's threads per redirect, with one closed-loop keep-alive client, so no two
 * redirects ever share a wake-up. The client is a platform thread that reuses its buffers; its own allocation and
 * switches are taken out. Runs on the classes on the class path, so the same class measures an older build:
 * {@code java -cp target/test-classes:OLD.jar io.gatehouse.app.bench.RedirectCounts [REQUESTS] [NEAR_CACHE_MS]}.
 */
public final class RedirectCounts {
    private static final Pattern SWITCHES = Pattern.compile("(?m)^(voluntary|nonvoluntary)_ctxt_switches:\\s+(\\d+)");
    private static final String CLIENT = "redirect-client";

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        long nearMs = args.length > 1 ? Long.parseLong(args[1]) : 0;
        Path home = Files.createTempDirectory("redirect-counts");
        try (EmbeddedPostgresCluster pg = EmbeddedPostgresCluster.start(home, true, true, 0, 0);
             EmbeddedRedis redis = EmbeddedRedis.start(0, "64mb", "allkeys-lfu")) {
            App app = App.start(AppConfig.defaults("counts", pg.primaryJdbcUrl(), List.of(pg.replicaJdbcUrl()), redis.uri())
                    .withNearCacheTtl(Duration.ofMillis(nearMs)).withRedisTimeout(Duration.ofSeconds(5)));
            try {
                String code = app.links().create("counts", "https://example.com/counted", null, null, false).value().code();
                long[] result = new long[4];
                Thread client = Thread.ofPlatform().name(CLIENT).start(() -> run(app.port(), code, n, result));
                client.join();
                System.out.printf("redirects %d (near cache %d ms): %.0f bytes allocated / redirect (client's own %d taken out); "
                                + "context switches / redirect of the app's threads: %.3f voluntary, %.3f involuntary%n",
                        n, nearMs, result[0] / (double) n, result[1], result[2] / (double) n, result[3] / (double) n);
                for (Map.Entry<String, long[]> e : lastByThread.entrySet()) {
                    if (e.getValue()[0] + e.getValue()[1] > n / 100) {
                        System.out.printf("    %-28s %.3f voluntary, %.3f involuntary%n", e.getKey(),
                                e.getValue()[0] / (double) n, e.getValue()[1] / (double) n);
                    }
                }
            } finally {
                app.close();
            }
        }
    }

    private static Map<String, long[]> lastByThread = Map.of();

    private static void run(int port, String code, int n, long[] result) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        byte[] request = ("GET /" + code + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] buf = new byte[4096];
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setTcpNoDelay(true);
            s.setSoTimeout(5_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            for (int i = 0; i < Math.max(n, 20_000); i++) exchange(out, in, request, buf); // warm-up: JIT, caches, pools
            Map<String, long[]> before = switches();
            long self0 = threads.getCurrentThreadAllocatedBytes();
            long all0 = threads.getTotalThreadAllocatedBytes();
            for (int i = 0; i < n; i++) exchange(out, in, request, buf);
            long all1 = threads.getTotalThreadAllocatedBytes();
            long self1 = threads.getCurrentThreadAllocatedBytes();
            Map<String, long[]> after = switches();
            result[1] = self1 - self0;
            result[0] = (all1 - all0) - result[1];
            Map<String, long[]> diff = new TreeMap<>();
            for (Map.Entry<String, long[]> e : after.entrySet()) {
                long[] b = before.getOrDefault(e.getKey(), new long[2]);
                String group = e.getKey().replaceAll("^\\d+/", "").replaceAll("\\d+", "N");
                if (group.startsWith(CLIENT.substring(0, 15))) continue;
                long[] g = diff.computeIfAbsent(group, k -> new long[2]);
                g[0] += e.getValue()[0] - b[0];
                g[1] += e.getValue()[1] - b[1];
            }
            for (long[] g : diff.values()) {
                result[2] += g[0];
                result[3] += g[1];
            }
            lastByThread = diff;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void exchange(OutputStream out, InputStream in, byte[] request, byte[] buf) throws Exception {
        out.write(request);
        out.flush();
        int len = 0;
        while (true) { // a 302 has no body: the head's end is the response's end
            int r = in.read(buf, len, buf.length - len);
            if (r < 0) throw new IllegalStateException("closed");
            len += r;
            if (len >= 4 && buf[len - 4] == '\r' && buf[len - 3] == '\n' && buf[len - 2] == '\r' && buf[len - 1] == '\n') break;
        }
        if (buf[9] != '3' || buf[10] != '0' || buf[11] != '2') {
            throw new IllegalStateException(new String(buf, 0, len, StandardCharsets.US_ASCII));
        }
    }

    /** tid/name → {voluntary, involuntary}, for every thread of this process. */
    private static Map<String, long[]> switches() throws Exception {
        Map<String, long[]> out = new TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                try {
                    String name = Files.readString(t.resolve("comm")).strip();
                    Matcher m = SWITCHES.matcher(Files.readString(t.resolve("status")));
                    long[] v = new long[2];
                    while (m.find()) v[m.group(1).equals("voluntary") ? 0 : 1] = Long.parseLong(m.group(2));
                    out.put(t.getFileName() + "/" + name, v);
                } catch (java.io.IOException gone) {
                    // the thread ended between the listing and the read
                }
            }
        }
        return out;
    }
}
