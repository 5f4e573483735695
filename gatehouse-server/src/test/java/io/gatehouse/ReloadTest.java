package io.gatehouse;

import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.ServerSocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reload swaps routes and clusters in on the same sockets; a reload that cannot apply changes nothing. */
class ReloadTest {
    @RegisterExtension
    final TestBackend one = new TestBackend().name("one");
    @RegisterExtension
    final TestBackend two = new TestBackend().name("two");

    private static GatehouseConfig config(String yaml) throws Exception {
        return ConfigLoader.parse(yaml + "\nadmin: { address: \"off\" }\n", "reload.yaml");
    }

    private String yaml(int port, String endpoints, String extraRoute) {
        return """
                listeners:
                  - name: edge
                    address: 127.0.0.1:%d
                    routes:
                %s
                      - name: all
                        cluster: app
                clusters:
                  - name: app
                    endpoints: [ %s ]
                """.formatted(port, extraRoute, endpoints);
    }

    @Test
    void reloadAddsRoutesAndEndpointsOnTheSameSocketAndKeepsUnchangedClusters() throws Exception {
        try (GatehouseFixture g = GatehouseFixture.start(yaml(0, "\"" + one.address() + "\"", ""))) {
            int port = g.address().getPort();
            assertThat(g.get("/").body()).isEqualTo("one");
            var clusterBefore = g.gatehouse().cluster("app");

            g.gatehouse().reload(config(yaml(port, "\"" + one.address() + "\"", """
                          - name: hello
                            match: { path: /hello }
                            direct_response: { status: 200, body: "hi" }
                    """)));
            assertThat(g.address().getPort()).isEqualTo(port);
            assertThat(g.get("/hello").body()).isEqualTo("hi");
            assertThat(g.gatehouse().cluster("app")).isSameAs(clusterBefore); // unchanged: pools and health kept

            g.gatehouse().reload(config(yaml(port, "\"" + one.address() + "\", \"" + two.address() + "\"", "")));
            var seen = new java.util.HashSet<String>();
            for (int i = 0; i < 4; i++) seen.add(g.get("/").body());
            assertThat(seen).containsExactlyInAnyOrder("one", "two");
            assertThat(g.get("/hello").statusCode()).isEqualTo(200); // now falls to the cluster route
        }
    }

    @Test
    void aReloadThatCannotBindLeavesTheRunningConfigServing() throws Exception {
        try (GatehouseFixture g = GatehouseFixture.start(yaml(0, "\"" + one.address() + "\"", ""));
             ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            int port = g.address().getPort();
            String withSecondListener = yaml(port, "\"" + two.address() + "\"", "").replace("clusters:", """
                      - name: second
                        address: 127.0.0.1:%d
                        routes: [ { name: r, cluster: app } ]
                    clusters:""".formatted(taken.getLocalPort()));
            assertThatThrownBy(() -> g.gatehouse().reload(config(withSecondListener)))
                    .hasMessageContaining("reload refused");
            assertThat(g.get("/").body()).isEqualTo("one"); // the old cluster still serves
            assertThat(g.gatehouse().listeners()).hasSize(1);
        }
    }
}
