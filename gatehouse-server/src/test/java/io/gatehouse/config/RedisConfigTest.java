package io.gatehouse.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The {@code redis:} section: one of address, sentinel or cluster, and bad node addresses named at their line. */
class RedisConfigTest {
    private static final String LISTENERS = """
            listeners:
              - name: edge
                address: 127.0.0.1:0
                routes: [{name: ping, direct_response: {status: 200}}]
            """;

    private static ConfigException failure(String redis) {
        return catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(LISTENERS + redis, "gatehouse.yaml", k -> null));
    }

    @Test
    void aClusterIsAListOfNodes() throws ConfigException {
        GatehouseConfig c = ConfigLoader.parse(LISTENERS + "redis: {cluster: [\"10.0.0.61:6379\", \"10.0.0.62:6379\"], timeout: 200ms}\n",
                "gatehouse.yaml", k -> null);
        assertThat(c.redis().cluster()).containsExactly("10.0.0.61:6379", "10.0.0.62:6379");
        assertThat(c.redis().address()).isNull();
        assertThat(c.redis().describe()).isEqualTo("cluster 10.0.0.61:6379,10.0.0.62:6379");
    }

    @Test
    void anAddressAndAClusterTogetherAreRefusedAtTheSection() {
        ConfigException e = failure("redis: {address: \"127.0.0.1:6379\", cluster: [\"10.0.0.61:6379\"]}\n");
        assertThat(e.getMessage()).startsWith("gatehouse.yaml:5:").contains("redis")
                .contains("give one of address (one Redis), sentinel (a master through its sentinels) or cluster");
    }

    @Test
    void aBadNodeAndAnEmptyClusterAreRefused() {
        assertThat(failure("redis: {cluster: [\"no-port\"]}\n").getMessage()).startsWith("gatehouse.yaml:5:").contains("redis");
        assertThat(failure("redis: {cluster: []}\n").getMessage()).contains("cluster: at least one node host:port");
    }
}
