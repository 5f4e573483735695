package io.gatehouse.telemetry;

import io.gatehouse.Gatehouse;
import io.gatehouse.ReloadOutcome;
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
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A reload that changes the access_log section takes effect at once; one that cannot open its file is refused. */
class AccessLogReloadTest {
    @RegisterExtension
    final TestBackend backend = new TestBackend().name("b");
    @TempDir
    Path dir;

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private String yaml(int port, String accessLog) {
        return """
                listeners:
                  - name: edge
                    address: 127.0.0.1:%d
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ "%s" ]
                admin: { address: "off" }
                %s
                """.formatted(port, backend.address(), accessLog);
    }

    private void get(Gatehouse g, String path) throws Exception {
        int port = g.listenerAddress("edge").getPort();
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
    }

    private static List<String> lines(Path file) throws Exception {
        return Files.exists(file) ? Files.readAllLines(file) : List.of();
    }

    @Test
    void reloadTurnsTheAccessLogOnSwitchesItsFormatAndRefusesAFileItCannotOpen() throws Exception {
        Path config = Files.writeString(dir.resolve("gatehouse.yaml"), yaml(0, ""));
        Path json = dir.resolve("access.json.log");
        Path combined = dir.resolve("access.combined.log");
        try (Gatehouse g = Gatehouse.start(ConfigLoader.load(config), Ticker.systemTicker(), config)) {
            int port = g.listenerAddress("edge").getPort();
            get(g, "/before");

            Files.writeString(config, yaml(port, "access_log: {path: \"" + json + "\", format: json}"));
            assertThat(g.reloadFromFile("test").result()).isEqualTo("applied");
            get(g, "/json");
            await().untilAsserted(() -> assertThat(lines(json)).hasSize(1));
            assertThat(lines(json).getFirst()).contains("\"path\":\"/json\"");

            Files.writeString(config, yaml(port, "access_log: {path: \"" + combined + "\", format: combined}"));
            assertThat(g.reloadFromFile("test").result()).isEqualTo("applied");
            get(g, "/combined");
            await().untilAsserted(() -> assertThat(lines(combined)).hasSize(1));
            assertThat(lines(combined).getFirst()).contains("\"GET /combined HTTP/1.1\" 200");
            assertThat(lines(json)).as("the old log gets nothing more").hasSize(1);

            // a directory is not a file to append to: the reload is refused and the running log keeps writing
            Files.writeString(config, yaml(port, "access_log: {path: \"" + dir + "\", format: json}"));
            ReloadOutcome refused = g.reloadFromFile("test");
            assertThat(refused.result()).isEqualTo("refused");
            assertThat(refused.error()).contains("access_log");
            get(g, "/still-combined");
            await().untilAsserted(() -> assertThat(lines(combined)).hasSize(2));
            assertThat(lines(combined).get(1)).contains("/still-combined");
            assertThat(g.telemetry().accessLogWritten()).isEqualTo(3);
        }
    }
}
