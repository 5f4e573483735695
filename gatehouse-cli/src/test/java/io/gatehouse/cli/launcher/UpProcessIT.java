package io.gatehouse.cli.launcher;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code ./gatehouse up} as a process, through the launcher, on free ports: the whole system starts, a link created
 * through the edge redirects through the edge, the whole process tree (the JVM, PostgreSQL primary and replica and
 * their workers, Redis) stays under the 1.5 GiB of RSS after start and after traffic, and a real SIGTERM
 * stops everything with exit code 0.
 */
class UpProcessIT {
    /** The bound for the whole system. */
    static final long RSS_LIMIT_KIB = 1536L * 1024;

    @TempDir
    Path dir;

    @Test
    void upServesALinkThroughTheEdgeAndStopsCleanlyOnSigterm() throws Exception {
        try (LaunchedGatehouse up = LaunchedGatehouse.start(dir, Map.of("GATEHOUSE_HOME", dir.resolve("home").toString()),
                "up", "--listen", "127.0.0.1:0", "--listen-tls", "off", "--admin", "off", "--app-ports", "0,0,0");
             HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build()) {
            // the banner's "Try it" names the edge's address
            String edge = up.awaitLine(Pattern.compile("curl -s -X POST (http://\\S+)/api/links"));

            HttpResponse<String> created = client.send(HttpRequest.newBuilder(URI.create(edge + "/api/links"))
                    .timeout(Duration.ofSeconds(10)).header("X-Gatehouse-User", "up-process")
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"target\":\"https://example.com/from-up\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            Matcher code = Pattern.compile("\"code\":\"([^\"]+)\"").matcher(created.body());
            assertThat(code.find()).as(created.body()).isTrue();

            HttpResponse<String> followed = client.send(HttpRequest.newBuilder(URI.create(edge + "/" + code.group(1)))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(followed.statusCode()).isEqualTo(302);
            assertThat(followed.headers().firstValue("location")).hasValue("https://example.com/from-up");

            long afterStart = treeRssKiB(up.pid());
            traffic(client, edge, code.group(1));
            long afterTraffic = treeRssKiB(up.pid());
            System.out.printf("gatehouse up RSS (process tree): %d MiB after start, %d MiB after traffic%n",
                    afterStart / 1024, afterTraffic / 1024);
            assertThat(afterStart).as("RSS after start, KiB").isGreaterThan(0).isLessThan(RSS_LIMIT_KIB);
            assertThat(afterTraffic).as("RSS after traffic, KiB").isLessThan(RSS_LIMIT_KIB);

            up.signal("TERM");
            assertThat(up.awaitExit(Duration.ofSeconds(60))).as(up.output()).isZero();
        }
    }

    /** 200 links made and 2,000 redirects followed through the edge, from 8 virtual threads: every answer checked. */
    static void traffic(HttpClient client, String edge, String hot) throws Exception {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                all.add(pool.submit(() -> {
                    for (int i = 0; i < 25; i++) {
                        HttpResponse<String> made = client.send(HttpRequest.newBuilder(URI.create(edge + "/api/links"))
                                .timeout(Duration.ofSeconds(10)).header("X-Gatehouse-User", "up-traffic")
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString("{\"target\":\"https://example.com/t" + i + "\"}")).build(),
                                HttpResponse.BodyHandlers.ofString());
                        assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
                        for (int j = 0; j < 10; j++) {
                            HttpResponse<Void> r = client.send(HttpRequest.newBuilder(URI.create(edge + "/" + hot))
                                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding());
                            assertThat(r.statusCode()).isEqualTo(302);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : all) f.get(120, TimeUnit.SECONDS);
        }
    }

    /** VmRSS of a process and all its descendants, from /proc (KiB). Shared pages count once per process: an upper bound. */
    static long treeRssKiB(long pid) throws IOException {
        ProcessHandle root = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("gatehouse up is not running"));
        long kib = rssKiB(root.pid());
        for (ProcessHandle p : root.descendants().toList()) kib += rssKiB(p.pid());
        return kib;
    }

    private static long rssKiB(long pid) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/" + pid + "/status"));
        } catch (NoSuchFileException e) {
            return 0; // a worker that just exited
        }
        for (String line : lines) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return 0; // a zombie has no VmRSS line
    }
}
