package io.gatehouse.proxy;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Under continuous load, one of three endpoints dies: no client request fails, in flight or after. */
class FailoverTest {

    @Test
    void killingOneOfThreeEndpointsUnderLoadFailsNoRequest() throws Exception {
        List<TestBackend> backends = new ArrayList<>();
        for (String name : List.of("a", "b", "c")) {
            TestBackend b = TestBackend.started(name);
            // a little latency, so requests are in flight on the endpoint when it dies
            b.respond(req -> TestResponse.ok(name).delayHeaders(Duration.ofMillis(2)));
            backends.add(b);
        }
        // probes time out after 5 s: under this load two probes of a live endpoint held up 500 ms took it out too;
        // the victim's probes fail at once (connection refused), so its detection does not wait on the timeout
        String yaml = """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: all
                        cluster: app
                        retries: { attempts: 2, on: ["502", "503", "reset"] }
                clusters:
                  - name: app
                    endpoints: [ "%s", "%s", "%s" ]
                    health_check: { path: /health, interval: 100ms, timeout: 5s, unhealthy_threshold: 2, healthy_threshold: 1 }
                    outlier_detection: { consecutive_gateway_failures: 2, base_ejection_time: 30s }
                    retry_budget: { ratio: 0.5, min_retries: 10 }
                """.formatted(backends.get(0).address(), backends.get(1).address(), backends.get(2).address());
        try (GatehouseFixture g = GatehouseFixture.start(yaml)) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger ok = new AtomicInteger();
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            CountDownLatch warmed = new CountDownLatch(200);
            List<Thread> clients = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Thread client = new Thread(() -> {
                    // bounded: at most 1500 requests per client thread
                    for (int i = 0; i < 1500 && !stop.get(); i++) {
                        try {
                            HttpResponse<String> r = g.client().send(HttpRequest.newBuilder(g.uri("/r" + i))
                                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() == 200) ok.incrementAndGet();
                            else failures.add(r.statusCode() + " " + r.headers().firstValue("gatehouse-reason").orElse("") + " " + r.body());
                        } catch (Exception e) {
                            failures.add(e.toString());
                        }
                        warmed.countDown();
                    }
                });
                client.start();
                clients.add(client);
            }
            warmed.await();
            TestBackend victim = backends.get(1);
            int beforeKill = victim.requestCount();
            assertThat(beforeKill).isGreaterThan(0);
            victim.stop(); // closes its listening socket and every open connection: in-flight requests are reset

            await().atMost(Duration.ofSeconds(10)).until(() -> g.gatehouse().cluster("app").availableCount() == 2);
            int okAtDetection = ok.get();
            await().atMost(Duration.ofSeconds(20)).until(() -> ok.get() >= okAtDetection + 400 || clients.stream().noneMatch(Thread::isAlive));
            stop.set(true);
            for (Thread c : clients) c.join(20_000);

            assertThat(failures).as("failed requests").isEmpty();
            assertThat(ok.get()).isGreaterThan(okAtDetection);
            assertThat(backends.get(0).requestCount() + backends.get(2).requestCount()).isGreaterThan(0);
        } finally {
            backends.forEach(TestBackend::close);
        }
    }
}
