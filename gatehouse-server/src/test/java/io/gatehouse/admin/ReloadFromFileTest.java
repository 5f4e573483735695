package io.gatehouse.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.gatehouse.Gatehouse;
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

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Reloading the configuration file: POST /reload and server.watch_config, valid files and broken ones. */
class ReloadFromFileTest {
    @RegisterExtension
    final TestBackend one = new TestBackend().name("one");
    @RegisterExtension
    final TestBackend two = new TestBackend().name("two");
    @TempDir
    Path dir;

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private String yaml(int port, String backend, boolean watch) {
        return """
                listeners:
                  - name: edge
                    address: 127.0.0.1:%d
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ "%s" ]
                admin: { address: "127.0.0.1:0" }
                server: { watch_config: %s }
                """.formatted(port, backend, watch);
    }

    private Gatehouse start(Path file) throws Exception {
        return Gatehouse.start(ConfigLoader.load(file), Ticker.systemTicker(), file);
    }

    private String get(Gatehouse g) throws Exception {
        int port = g.listenerAddress("edge").getPort();
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    @Test
    void anInvalidFileIsRefusedWithItsLocatedErrorAndTheOldConfigKeepsServing() throws Exception {
        Path file = Files.writeString(dir.resolve("gatehouse.yaml"), yaml(0, one.address(), false));
        try (Gatehouse g = start(file)) {
            AdminClient admin = new AdminClient(g.adminAddress(), null);
            int port = g.listenerAddress("edge").getPort();
            Files.writeString(file, yaml(port, two.address(), false).replace("endpoints:", "endpoint:"));

            AdminClient.Answer refused = admin.post("/reload");

            assertThat(refused.status()).isEqualTo(400);
            assertThat(refused.json().get("result").asText()).isEqualTo("refused");
            assertThat(refused.json().get("source").asText()).isEqualTo("admin");
            String error = refused.json().get("error").asText();
            assertThat(error).contains(file + ":7:5: clusters[0].endpoint: unknown key 'endpoint'; did you mean 'endpoints'?");
            assertThat(get(g)).isEqualTo("one");
            JsonNode lastReload = admin.get("/stats").json().get("last_reload");
            assertThat(lastReload.get("result").asText()).isEqualTo("refused");
            assertThat(lastReload.get("error").asText()).isEqualTo(error);
            JsonNode event = admin.get("/events?limit=1").json().get("events").get(0);
            assertThat(event.get("kind").asText()).isEqualTo("reload");
            assertThat(event.get("message").asText()).contains("refused", error);

            Files.writeString(file, yaml(port, two.address(), false));
            AdminClient.Answer applied = admin.post("/reload");

            assertThat(applied.status()).isEqualTo(200);
            assertThat(applied.json().get("result").asText()).isEqualTo("applied");
            assertThat(applied.json().get("error").isNull()).isTrue();
            assertThat(get(g)).isEqualTo("two");
            assertThat(g.listenerAddress("edge").getPort()).isEqualTo(port);
            assertThat(admin.get("/stats").json().get("config_file").asText()).isEqualTo(file.toString());
        }
    }

    @Test
    void watchConfigReloadsTheFileWhenItsContentChanges() throws Exception {
        Path file = Files.writeString(dir.resolve("gatehouse.yaml"), yaml(0, one.address(), true));
        try (Gatehouse g = start(file)) {
            int port = g.listenerAddress("edge").getPort();
            assertThat(get(g)).isEqualTo("one");

            Files.writeString(file, yaml(port, two.address(), true));

            await().atMost(Duration.ofSeconds(10)).until(() -> g.lastReload() != null);
            assertThat(g.lastReload().source()).isEqualTo("file_watch");
            assertThat(g.lastReload().applied()).isTrue();
            assertThat(get(g)).isEqualTo("two");
        }
    }
}
