package io.gatehouse.cli;

import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.embedded.RedisServer;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code gatehouse consumers} against a real edge with a real Redis: usage on the edge and the daily quota left. */
class ConsumersCommandTest {
    @RegisterExtension
    final TestBackend backend = new TestBackend().name("api");
    @TempDir
    Path dir;

    private static String sha256(String key) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void listsEachConsumerWithItsUsageAndItsQuotaLeft() throws Exception {
        int redisPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            redisPort = s.getLocalPort();
        }
        RedisServer redis = new RedisServer(redisPort);
        redis.start();
        try (Gatehouse g = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: api
                        cluster: api
                        filters:
                          - api_key: {}
                          - quota: {per_day: 10}
                consumers:
                  - {name: shop, plan: gold, api_keys: [{sha256: %s}]}
                  - {name: idle, disabled: true}
                metering: {path: "%s"}
                redis: {address: "127.0.0.1:%d", timeout: 5s}
                clusters: [{name: api, endpoints: ["%s"]}]
                admin: {address: "127.0.0.1:0"}
                """.formatted(sha256("shop-key"), dir.resolve("metering.jsonl"), redisPort, backend.address()), "consumers.yaml"))) {
            HttpClient client = HttpClient.newHttpClient();
            for (int i = 0; i < 3; i++) {
                HttpResponse<Void> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + g.listenerAddress("edge").getPort() + "/x"))
                        .header("x-api-key", "shop-key").timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding());
                assertThat(r.statusCode()).isEqualTo(200);
            }

            CommandRun run = CommandRun.of("consumers", "--admin", "127.0.0.1:" + g.adminAddress().getPort());

            assertThat(run.exitCode()).as(run.err()).isZero();
            String[] lines = run.out().split("\n");
            assertThat(lines).hasSize(3);
            assertThat(lines[0]).startsWith("CONSUMER").contains("REQUESTS", "LIMITED", "QUOTA LEFT");
            assertThat(lines[1].split("\\s{2,}")).containsExactly("idle", "config", "-", "disabled", "0", "0", "0", "0", "0", "0",
                    "10/10 today (edge/api)");
            assertThat(lines[2].split("\\s{2,}")).containsExactly("shop", "config", "gold", "enabled", "1", "3", "3", "0", "0", "0",
                    "7/10 today (edge/api)");
        } finally {
            redis.stop();
        }
    }

    @Test
    void failsClearlyWhenTheAdminApiCannotBeReached() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        CommandRun run = CommandRun.of("consumers", "--admin", "http://127.0.0.1:" + port, "--timeout", "2s");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("cannot reach the admin API", "connection refused");
    }
}
