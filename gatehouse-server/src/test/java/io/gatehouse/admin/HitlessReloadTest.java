package io.gatehouse.admin;

import io.gatehouse.Gatehouse;
import io.gatehouse.ReloadOutcome;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestBackend;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Reloads under continuous keep-alive traffic lose no request. */
class HitlessReloadTest {
    @RegisterExtension
    final TestBackend one = new TestBackend().name("one");
    @RegisterExtension
    final TestBackend two = new TestBackend().name("two");
    @RegisterExtension
    final TestBackend three = new TestBackend().name("three");
    @TempDir
    Path dir;

    private static final int CLIENTS = 3;
    private static final int RELOADS = 20;

    /** Two configs to alternate: different endpoints (one added, one removed) and a different extra route. */
    private String yaml(int port, boolean first) {
        String endpoints = first ? "\"%s\", \"%s\"".formatted(one.address(), two.address())
                : "\"%s\", \"%s\"".formatted(two.address(), three.address());
        String extra = first ? "/a" : "/b";
        return """
                listeners:
                  - name: edge
                    address: 127.0.0.1:%d
                    routes:
                      - { name: extra, match: { path: %s }, direct_response: { status: 200, body: extra } }
                      - { name: all, cluster: app }
                clusters:
                  - name: app
                    endpoints: [ %s ]
                    # timeout: a busy CI machine must not fail a health check, which is not what this test is about
                    health_check: { path: /health, interval: 200ms, timeout: 5s }
                admin: { address: "off" }
                """.formatted(port, extra, endpoints);
    }

    @Test
    void twentyReloadsUnderKeepAliveLoadFailNoRequest() throws Exception {
        Path file = Files.writeString(dir.resolve("gatehouse.yaml"), yaml(0, true));
        Gatehouse g = Gatehouse.start(ConfigLoader.load(file), Ticker.systemTicker(), file);
        int port = g.listenerAddress("edge").getPort();
        URI uri = URI.create("http://127.0.0.1:" + port + "/");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong ok = new AtomicLong();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        List<Thread> clients = new ArrayList<>();
        try {
            for (int i = 0; i < CLIENTS; i++) {
                Thread t = Thread.ofPlatform().name("load-" + i).start(() -> {
                    // one client (one keep-alive connection) per thread
                    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                    HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build();
                    while (!stop.get()) {
                        try {
                            HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() == 200 && Set.of("one", "two", "three").contains(r.body())) ok.incrementAndGet();
                            else failures.add(r.statusCode() + " " + r.body());
                        } catch (Exception e) {
                            failures.add(e.toString());
                        }
                    }
                });
                clients.add(t);
            }
            await().until(() -> ok.get() > 50);

            for (int i = 0; i < RELOADS; i++) {
                Files.writeString(file, yaml(port, i % 2 == 1));
                ReloadOutcome outcome = g.reloadFromFile("admin");
                assertThat(outcome.applied()).as(outcome.error()).isTrue();
                long before = ok.get();
                await().until(() -> ok.get() > before + 30);   // traffic flows on the new config before the next swap
            }
            assertThat(g.listenerAddress("edge").getPort()).isEqualTo(port);
        } finally {
            stop.set(true);
            for (Thread t : clients) t.join(15_000);
            g.shutdown(Duration.ofSeconds(2));
        }
        assertThat(failures).isEmpty();
        assertThat(ok.get()).isGreaterThan(50 + RELOADS * 30L);
        assertThat(three.requestCount()).isPositive();   // the endpoint only the second config has was used
    }
}
