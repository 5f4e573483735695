package io.gatehouse.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The closed choices of the gateway filters are enums: a wrong value is an error that names the file, the line, the
 * key and the valid values (and the closest one).
 */
class GatewayKeysConfigTest {
    private static String config(String filter) {
        return """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: api
                        cluster: api
                        filters:
                          - %s
                clusters: [{name: api, endpoints: ["127.0.0.1:1"]}]
                """.formatted(filter);
    }

    @Test
    void wrongValuesListTheValidOnes() {
        assertThatThrownBy(() -> ConfigLoader.parse(config("concurrency_limit: {max: 5, key: client-ip}"), "g.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("g.yaml:8").hasMessageContaining("key")
                .hasMessageContaining("is not one of route, consumer, client_ip").hasMessageContaining("did you mean 'client_ip'");
        assertThatThrownBy(() -> ConfigLoader.parse(config("quota: {key: route, per_day: 5}"), "g.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("g.yaml:8").hasMessageContaining("key")
                .hasMessageContaining("is not one of consumer, client_ip");
        assertThatThrownBy(() -> ConfigLoader.parse(config("mtls_identity: {from: subject}"), "g.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("g.yaml:8").hasMessageContaining("from")
                .hasMessageContaining("is not one of san, cn");
    }

    @Test
    void validValuesBind() throws Exception {
        GatehouseConfig c = ConfigLoader.parse(config("concurrency_limit: {max: 5, key: client_ip}"), "g.yaml");
        assertThat(c.listeners().get(0).routes().get(0).filters().get(0).type()).isEqualTo("concurrency_limit");
        ConfigLoader.parse(config("quota: {key: client_ip, per_day: 5}"), "g.yaml");
        ConfigLoader.parse(config("mtls_identity: {from: cn}"), "g.yaml");
    }
}
