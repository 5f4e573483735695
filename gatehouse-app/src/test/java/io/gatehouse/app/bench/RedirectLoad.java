package io.gatehouse.app.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A bounded closed-loop load for the framework measurement (not a test): {@code connections} virtual threads each
 * send GET {@code path} back to back for {@code seconds}, and the server's CPU time is read from /proc, giving
 * requests per second per core of the server process. Usage: RedirectLoad URL SERVER_PID SECONDS CONNECTIONS
 */
public final class RedirectLoad {
    public static void main(String[] args) throws Exception {
        URI uri = URI.create(args[0]);
        long pid = Long.parseLong(args[1]);
        int seconds = Integer.parseInt(args[2]);
        int connections = Integer.parseInt(args[3]);
        HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build();
        run(client, req, connections, 3, new AtomicLong(), new AtomicLong()); // warm-up
        AtomicLong ok = new AtomicLong(), bad = new AtomicLong();
        long cpu0 = cpuTicks(pid);
        long t0 = System.nanoTime();
        run(client, req, connections, seconds, ok, bad);
        double wall = (System.nanoTime() - t0) / 1e9;
        double cpu = (cpuTicks(pid) - cpu0) / 100.0; // USER_HZ
        System.out.printf("requests=%d errors=%d wall=%.1fs rps=%.0f serverCpu=%.2fs rpsPerCore=%.0f%n",
                ok.get(), bad.get(), wall, ok.get() / wall, cpu, ok.get() / cpu);
    }

    private static void run(HttpClient client, HttpRequest req, int connections, int seconds, AtomicLong ok, AtomicLong bad)
            throws InterruptedException {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        Thread[] threads = new Thread[connections];
        for (int i = 0; i < connections; i++) {
            threads[i] = Thread.ofVirtual().start(() -> {
                while (System.nanoTime() < end) {
                    try {
                        HttpResponse<Void> r = client.send(req, HttpResponse.BodyHandlers.discarding());
                        (r.statusCode() == 302 ? ok : bad).incrementAndGet();
                    } catch (Exception e) {
                        bad.incrementAndGet();
                    }
                }
            });
        }
        for (Thread t : threads) t.join();
    }

    private static long cpuTicks(long pid) throws Exception {
        String[] f = Files.readString(Path.of("/proc/" + pid + "/stat")).split("\\) ")[1].split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime + stime
    }
}
