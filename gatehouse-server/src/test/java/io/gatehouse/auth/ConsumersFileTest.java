package io.gatehouse.auth;

import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestBackend;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@code consumers_file}: consumers kept in a file of their own, merged with the config's, and reloaded like the
 * config (watch_config notices the consumers file changing too). A name defined twice is an error located in the
 * consumers file.
 */
@org.junit.jupiter.params.ParameterizedClass
@org.junit.jupiter.params.provider.EnumSource(io.gatehouse.Protocol.class)
class ConsumersFileTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");
    @org.junit.jupiter.params.Parameter
    io.gatehouse.Protocol protocol;
    @TempDir
    Path dir;
    private HttpClient client;

    private Path write(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    private int call(Gatehouse g, String key) throws Exception {
        if (client == null) client = protocol.client();
        HttpResponse<Void> r = client.send(HttpRequest.newBuilder(protocol.uri(g.listenerAddress("edge").getPort(), "/x"))
                .timeout(Duration.ofSeconds(10)).header("x-api-key", key).build(), HttpResponse.BodyHandlers.discarding());
        assertThat(r.version()).isEqualTo(protocol.version());
        return r.statusCode();
    }

    @Test
    void consumersComeFromTheFileAndAChangeToItReloads() throws Exception {
        write("consumers.yaml", """
                consumers:
                  - name: first
                    api_keys: [{sha256: %s}]
                """.formatted(ConsumerStore.sha256Hex("key-one")));
        Path config = write("gatehouse.yaml", """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: api
                        cluster: api
                        filters: [{api_key: {}}]
                consumers_file: consumers.yaml
                consumers:
                  - name: inline
                    api_keys: [{sha256: %s}]
                server: {watch_config: true}
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(protocol.listenerTls(), ConsumerStore.sha256Hex("key-inline"), backend.address()));
        Gatehouse g = Gatehouse.start(ConfigLoader.load(config), Ticker.systemTicker(), config);
        try {
            assertThat(call(g, "key-one")).isEqualTo(200);
            assertThat(call(g, "key-inline")).isEqualTo(200);
            assertThat(call(g, "key-two")).isEqualTo(401);
            write("consumers.yaml", """
                    consumers:
                      - name: first
                        disabled: true
                        api_keys: [{sha256: %s}]
                      - name: second
                        api_keys: [{sha256: %s}]
                    """.formatted(ConsumerStore.sha256Hex("key-one"), ConsumerStore.sha256Hex("key-two")));
            // the watch looks every second; the file's time may need a tick to differ
            await().atMost(Duration.ofSeconds(10)).until(() -> call(g, "key-two") == 200);
            assertThat(call(g, "key-one")).isEqualTo(403);
            assertThat(g.lastReload().source()).isEqualTo("file_watch");
        } finally {
            g.shutdown(Duration.ofSeconds(1));
        }
    }

    @Test
    void aNameDefinedTwiceIsAnErrorInTheConsumersFile() throws Exception {
        write("dup.yaml", """
                consumers:
                  - name: ok
                  - name: shop
                """);
        Path config = write("g.yaml", """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [{name: api, cluster: api}]
                consumers_file: dup.yaml
                consumers: [{name: shop}]
                clusters: [{name: api, endpoints: ["127.0.0.1:1"]}]
                """);
        assertThatThrownBy(() -> ConfigLoader.load(config)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("dup.yaml:3").hasMessageContaining("consumers[1].name").hasMessageContaining("defined twice");
        write("bad.yaml", "consumers:\n  - name: \"a b\"\n");
        Path other = write("g2.yaml", Files.readString(config).replace("dup.yaml", "bad.yaml").replace("consumers: [{name: shop}]\n", ""));
        assertThatThrownBy(() -> ConfigLoader.load(other)).isInstanceOf(ConfigException.class).hasMessageContaining("bad.yaml:2");
        Path missing = write("g3.yaml", Files.readString(other).replace("bad.yaml", "nowhere.yaml"));
        assertThatThrownBy(() -> ConfigLoader.load(missing)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("consumers_file").hasMessageContaining("nowhere.yaml");
    }
}
