package io.gatehouse.cache;

import io.gatehouse.config.CacheConfig;
import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** examples/cache.yaml sets what it advertises, and bad cache settings are errors naming file, line and key. */
class CacheExampleTest {
    @Test
    void theExampleConfiguresACdnStyleRoute() throws Exception {
        GatehouseConfig config = ConfigLoader.load(Path.of("..", "examples", "cache.yaml"), name -> null);
        CacheConfig shop = (CacheConfig) config.listeners().get(0).routes().get(1).filters().get(0).settings();
        assertThat(shop.ttlByStatus()).containsEntry(404, Duration.ofMinutes(1)).containsEntry(200, Duration.ofMinutes(10));
        assertThat(shop.key().queryAllow()).containsExactly("page", "sort");
        assertThat(shop.bypass()).contains("cookie:session");
        assertThat(shop.staleOnError()).isEqualTo(Duration.ofHours(1));
        assertThat(shop.purgeFrom()).contains("127.0.0.1/32");
        assertThat(shop.maxSize()).isEqualTo(512L << 20);
        CacheConfig assets = (CacheConfig) config.listeners().get(0).routes().get(0).filters().get(0).settings();
        assertThat(assets.disk().path()).isEqualTo("/tmp/gatehouse-cache");
        assertThat(assets.disk().maxSize()).isEqualTo(4L << 30);
    }

    @Test
    void badSettingsNameTheLineAndKey() {
        String yaml = """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: r
                        cluster: c
                        filters:
                          - cache: {ttl: {"2000": 1m}}
                clusters:
                  - name: c
                    endpoints: ["127.0.0.1:1"]
                """;
        assertThatThrownBy(() -> ConfigLoader.parse(yaml, "bad.yaml")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("bad.yaml:8").hasMessageContaining("ttl");
        assertThatThrownBy(() -> ConfigLoader.parse(yaml.replace("{ttl: {\"2000\": 1m}}", "{origin_cache_control: ignore}"), "bad.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("needs ttl");
        assertThatThrownBy(() -> ConfigLoader.parse(yaml.replace("{ttl: {\"2000\": 1m}}", "{use_stale: [sometimes], stale_on_error: 1m}"), "bad.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("use_stale");
        assertThatThrownBy(() -> ConfigLoader.parse(yaml.replace("{ttl: {\"2000\": 1m}}", "{disk: {max_size: 1GiB}}"), "bad.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("bad.yaml:8").hasMessageContaining("path");
        assertThatThrownBy(() -> ConfigLoader.parse(yaml.replace("{ttl: {\"2000\": 1m}}", "{max_object_size: 8MiB, disk: {path: /tmp/x, max_size: 1MiB}}"), "bad.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("disk");
    }
}
