package io.gatehouse.proxy;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Load-balancing policies seen from a client, through the proxy. */
class LoadBalancingTest {
    private final List<TestBackend> backends = new ArrayList<>();

    @AfterEach
    void stop() {
        backends.forEach(TestBackend::close);
    }

    private String endpoints(int n) {
        List<String> addresses = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            TestBackend b = TestBackend.started("e" + i);
            backends.add(b);
            addresses.add("\"" + b.address() + "\"");
        }
        return String.join(", ", addresses);
    }

    private GatehouseFixture gatehouse(String endpoints, String loadBalancer) {
        return GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ %s ]
                    load_balancer: %s
                """.formatted(endpoints, loadBalancer));
    }

    @Test
    void smoothWeightedRoundRobinInterleavesByWeight() {
        TestBackend heavy = TestBackend.started("heavy");
        TestBackend light = TestBackend.started("light");
        backends.add(heavy);
        backends.add(light);
        try (GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ { address: "%s", weight: 3 }, { address: "%s", weight: 1 } ]
                """.formatted(heavy.address(), light.address()))) {
            StringBuilder sequence = new StringBuilder();
            for (int i = 0; i < 8; i++) sequence.append(g.get("/").body().charAt(0));
            // nginx's smooth weighted round robin: h h l h, repeated — never the light one twice in a row
            assertThat(sequence.toString()).isEqualTo("hhlhhhlh");
        }
    }

    @Test
    void stickyCookiePinsAClientToTheEndpointItFirstGot() {
        try (GatehouseFixture g = gatehouse(endpoints(3), "{ policy: round_robin, sticky_cookie: { name: GH } }")) {
            HttpResponse<String> first = g.get("/");
            String cookie = first.headers().firstValue("set-cookie").orElseThrow();
            assertThat(cookie).startsWith("GH=").contains("HttpOnly");
            String pair = cookie.substring(0, cookie.indexOf(';'));
            for (int i = 0; i < 6; i++) {
                HttpResponse<String> again = g.send(HttpRequest.newBuilder(g.uri("/")).header("Cookie", pair).build());
                assertThat(again.body()).isEqualTo(first.body());
                assertThat(again.headers().firstValue("set-cookie")).isEmpty(); // already pinned: no new cookie
            }
        }
    }

    @Test
    void ringHashSendsTheSameKeyToTheSameEndpointAndSpreadsKeys() {
        try (GatehouseFixture g = gatehouse(endpoints(3), "{ policy: ring_hash, hash: { header: x-user } }")) {
            Map<String, String> owner = new HashMap<>();
            Set<String> used = new HashSet<>();
            for (int round = 0; round < 3; round++) {
                for (int user = 0; user < 30; user++) {
                    String body = g.send(HttpRequest.newBuilder(g.uri("/")).header("x-user", "user-" + user).build()).body();
                    String previous = owner.putIfAbsent("user-" + user, body);
                    if (previous != null) assertThat(body).isEqualTo(previous);
                    used.add(body);
                }
            }
            assertThat(used).hasSize(3);
        }
    }

    @Test
    void leastRequestAvoidsABusyEndpoint() throws Exception {
        TestBackend slow = TestBackend.started("slow");
        TestBackend fast = TestBackend.started("fast");
        backends.add(slow);
        backends.add(fast);
        slow.respond(req -> io.gatehouse.testing.TestResponse.ok("slow").delayHeaders(java.time.Duration.ofSeconds(2)));
        try (GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ "%s", "%s" ]
                    load_balancer: { policy: least_request }
                """.formatted(slow.address(), fast.address()))) {
            // send one at a time until the slow endpoint holds a request in flight (bounded: 50 tries)
            java.util.concurrent.CompletableFuture<HttpResponse<String>> parked = null;
            for (int i = 0; i < 50 && slow.requestCount() == 0; i++) {
                var f = g.client().sendAsync(HttpRequest.newBuilder(g.uri("/p" + i)).build(), HttpResponse.BodyHandlers.ofString());
                org.awaitility.Awaitility.await().until(() -> f.isDone() || slow.requestCount() > 0);
                if (!f.isDone()) parked = f;
            }
            assertThat(parked).isNotNull();
            org.awaitility.Awaitility.await().until(() -> g.gatehouse().cluster("app").endpoints().get(0).inFlight() == 1);
            var pending = parked;
            for (int i = 0; i < 10; i++) assertThat(g.get("/f" + i).body()).isEqualTo("fast");
            assertThat(pending.get().statusCode()).isEqualTo(200);
        }
    }
}
