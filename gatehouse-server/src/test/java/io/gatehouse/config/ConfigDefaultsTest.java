package io.gatehouse.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigDefaultsTest {

    @Test
    void missingSectionsTakeTheDocumentedDefaults() throws Exception {
        GatehouseConfig config = ConfigLoader.parse("""
                listeners:
                  - name: public
                    address: 127.0.0.1:0
                    routes:
                      - name: all
                        cluster: app
                clusters:
                  - name: app
                    endpoints:
                      - address: 127.0.0.1:9001
                """, "inline.yaml");
        ClusterConfig app = config.cluster("app");
        assertThat(app.loadBalancer().policy()).isEqualTo(io.gatehouse.config.LoadBalancerPolicy.ROUND_ROBIN);
        assertThat(app.endpoints().get(0).weight()).isEqualTo(1);
        assertThat(app.limits().maxPending()).isEqualTo(1000);
        assertThat(config.listeners().get(0).limits().maxUriLength()).isEqualTo(8192);
        assertThat(config.listeners().get(0).routes().get(0).retries().attempts()).isEqualTo(2);
        assertThat(config.admin().address()).isEqualTo("127.0.0.1:9090");
    }

    @Test
    void aRouteNeedsExactlyOneAction() {
        assertThatThrownBy(() -> new RouteConfig("r", null, "a", new RouteConfig.DirectResponseConfig(200, "x", null),
                null, null, null, null, null, null, null))
                .hasMessageContaining("exactly one of cluster, direct_response, redirect");
    }
}
