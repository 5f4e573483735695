package io.gatehouse.clock;

import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** One injectable clock dates what the server reports: a test moves wall time (and monotonic time) without sleeping. */
class ClockTest {
    @TempDir
    Path dir;

    @Test
    void manualTimeMovesMonotonicAndWallTimeTogetherAndNeverBack() {
        ManualClock clock = new ManualClock(Instant.parse("2030-01-01T00:00:00Z"));
        long start = clock.nanoTime();
        clock.advance(Duration.ofHours(25));
        assertThat(clock.nanoTime() - start).isEqualTo(Duration.ofHours(25).toNanos());
        assertThat(clock.instant()).isEqualTo(Instant.parse("2030-01-02T01:00:00Z"));
        assertThat(clock.asJavaClock().instant()).isEqualTo(clock.instant());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> clock.advance(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void accessLogLinesAndTheStartTimeAreDatedByTheServersClock() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2030-01-01T00:00:00Z"));
        Path log = dir.resolve("access.log");
        GatehouseConfig config = ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [{name: hi, direct_response: {status: 200, body: hi}}]
                access_log: {path: "%s", format: json}
                admin: {address: "off"}
                """.formatted(log), "clock.yaml");
        Gatehouse g = Gatehouse.start(config, clock);
        try {
            assertThat(g.startedAt()).isEqualTo(Instant.parse("2030-01-01T00:00:00Z"));
            HttpClient client = HttpClient.newHttpClient();
            URI uri = URI.create("http://127.0.0.1:" + g.listenerAddress("edge").getPort() + "/");
            client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            clock.advance(Duration.ofDays(1));
            client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(log) && Files.readAllLines(log).size() == 2);
            List<String> lines = Files.readAllLines(log);
            assertThat(lines.get(0)).contains("\"time\":\"2030-01-01T00:00:00Z\"");
            assertThat(lines.get(1)).contains("\"time\":\"2030-01-02T00:00:00Z\"");
        } finally {
            g.shutdown(Duration.ofSeconds(1));
        }
    }
}
