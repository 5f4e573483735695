package io.gatehouse.proxy;

import ch.qos.logback.classic.Level;
import io.gatehouse.GatehouseFixture;
import io.gatehouse.LogCapture;
import io.gatehouse.cluster.Cluster;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Passive ejection never takes a cluster down by itself: the panic threshold (Envoy's, 50 % by default). */
class OutlierPanicTest {
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) closeables.get(i).close();
    }

    private TestBackend backend(String name) {
        TestBackend b = TestBackend.started(name);
        closeables.add(b);
        return b;
    }

    private GatehouseFixture gatehouse(String endpoints, String outlier) {
        GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [{name: all, cluster: app, retries: {attempts: 0}}]
                clusters:
                  - name: app
                    endpoints: [%s]
                    outlier_detection: %s
                """.formatted(endpoints, outlier));
        closeables.add(0, g);
        return g;
    }

    @Test
    void theOnlyEndpointIsNeverEjectedOutOfService() {
        TestBackend only = backend("only");
        only.enqueue(TestResponse.status(500), TestResponse.status(500), TestResponse.status(500));
        GatehouseFixture g = gatehouse("\"" + only.address() + "\"", "{consecutive_5xx: 2}");
        Cluster cluster = g.gatehouse().cluster("app");
        try (LogCapture log = LogCapture.of(Level.WARN, Cluster.class.getName())) {
            assertThat(g.get("/1").statusCode()).isEqualTo(500);
            assertThat(g.get("/2").statusCode()).isEqualTo(500); // the run that ejects it
            assertThat(cluster.endpoints().get(0).ejections()).isEqualTo(1);
            // ejected, yet the cluster still routes to it: a third 500 from the endpoint, then its recovery
            HttpResponse<String> third = g.get("/3");
            assertThat(third.statusCode()).isEqualTo(500);
            assertThat(third.headers().firstValue("gatehouse-reason")).isEmpty();
            assertThat(g.get("/4").body()).isEqualTo("only");
            assertThat(cluster.mode()).isEqualTo("panic");
            assertThat(only.requestCount()).isEqualTo(4);
            cluster.refresh();
            cluster.refresh();
            assertThat(log.events()).filteredOn(e -> e.getFormattedMessage().contains("panic threshold")).hasSize(1);
        }
    }

    @Test
    void belowThePanicThresholdEjectedEndpointsTakeTrafficAgain() {
        List<TestBackend> bad = List.of(backend("bad1"), backend("bad2"), backend("bad3"));
        for (TestBackend b : bad) b.respond(req -> TestResponse.status(500));
        TestBackend good = backend("good");
        String endpoints = "\"%s\", \"%s\", \"%s\", \"%s\"".formatted(bad.get(0).address(), bad.get(1).address(),
                bad.get(2).address(), good.address());
        GatehouseFixture g = gatehouse(endpoints, "{consecutive_5xx: 1, max_ejection_percent: 100}");
        Cluster cluster = g.gatehouse().cluster("app");
        // round robin: each bad endpoint answers once and is ejected; two ejected of four is still 50 %
        for (int i = 0; i < 4; i++) g.get("/warm" + i);
        assertThat(cluster.endpoints().stream().filter(e -> e.ejections() > 0)).hasSize(3);
        assertThat(cluster.mode()).isEqualTo("panic");
        assertThat(cluster.availableCount()).isEqualTo(4);
        int before = bad.stream().mapToInt(TestBackend::requestCount).sum();
        for (int i = 0; i < 8; i++) g.get("/panic" + i);
        assertThat(bad).allSatisfy(b -> assertThat(b.requestCount()).isGreaterThan(1));
        assertThat(bad.stream().mapToInt(TestBackend::requestCount).sum() - before).isEqualTo(6);
    }

    @Test
    void aHealthyMajorityKeepsEjectionsInForce() {
        TestBackend bad = backend("bad");
        bad.respond(req -> TestResponse.status(500));
        TestBackend good1 = backend("good1");
        TestBackend good2 = backend("good2");
        GatehouseFixture g = gatehouse("\"%s\", \"%s\", \"%s\"".formatted(bad.address(), good1.address(), good2.address()),
                "{consecutive_5xx: 1}");
        for (int i = 0; i < 3; i++) g.get("/warm" + i);
        Cluster cluster = g.gatehouse().cluster("app");
        assertThat(cluster.mode()).isEqualTo("normal");
        assertThat(cluster.availableCount()).isEqualTo(2);
        for (int i = 0; i < 6; i++) assertThat(g.get("/" + i).statusCode()).isEqualTo(200);
        assertThat(bad.requestCount()).isEqualTo(1);
    }
}
