package io.gatehouse.redis;

import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.embedded.RedisSentinel;
import redis.embedded.RedisServer;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code redis: {sentinel: ...}}: the edge finds the master through a real Redis Sentinel (embedded-redis runs one)
 * and a global limit is held there.
 */
@org.junit.jupiter.params.ParameterizedClass
@org.junit.jupiter.params.provider.EnumSource(io.gatehouse.Protocol.class)
class RedisSentinelTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");
    @org.junit.jupiter.params.Parameter
    io.gatehouse.Protocol protocol;

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void aGlobalLimitIsHeldOnTheMasterTheSentinelNames() throws Exception {
        int masterPort = freePort();
        int sentinelPort = freePort();
        RedisServer master = new RedisServer(masterPort);
        master.start();
        RedisSentinel sentinel = RedisSentinel.newRedisSentinel().bind("127.0.0.1").port(sentinelPort).masterPort(masterPort)
                .masterName("edge-master").quorumSize(1).build();
        sentinel.start();
        try (Gatehouse g = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: api
                        cluster: api
                        filters:
                          - rate_limit: {key: route, mode: global, on_redis_failure: closed, limits: [{rate: 3/h}]}
                redis:
                  timeout: 1s
                  sentinel: {master: edge-master, addresses: ["127.0.0.1:%d"]}
                clusters: [{name: api, endpoints: ["%s"]}]
                admin: {address: "off"}
                """.formatted(protocol.listenerTls(), sentinelPort, backend.address()), "sentinel.yaml"))) {
            HttpClient client = protocol.client();
            URI uri = protocol.uri(g.listenerAddress("edge").getPort(), "/x");
            int[] statuses = new int[4];
            for (int i = 0; i < 4; i++) {
                statuses[i] = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode();
            }
            // closed on failure: a 200 can only come from a decision the master made
            assertThat(statuses).containsExactly(200, 200, 200, 429);
            try (var direct = io.lettuce.core.RedisClient.create("redis://127.0.0.1:" + masterPort).connect()) {
                assertThat(direct.sync().keys("gatehouse:rl:*")).as("the bucket lives on the master").hasSize(1);
            }
        } finally {
            sentinel.stop();
            master.stop();
        }
    }
}
