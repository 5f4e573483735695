package io.gatehouse.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.embedded.RedisServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The cluster tests' node start: a node whose cluster-bus port (port + 10000) is taken starts again on another port. */
class RedisClusterNodesTest {
    @TempDir
    Path dir;

    @Test
    void aNodeWhoseBusPortIsTakenStartsOnAnotherPort() throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        int blocked = -1;
        ServerSocket bus = null;
        while (bus == null) {   // a free port whose bus port this test can hold
            blocked = RedisClusterNodes.freePort();
            if (blocked + RedisClusterNodes.BUS_OFFSET > 65_535) continue;
            try {
                bus = new ServerSocket(blocked + RedisClusterNodes.BUS_OFFSET, 1, loopback);
            } catch (IOException taken) {
                // another one
            }
        }
        List<Integer> offered = new ArrayList<>();
        int first = blocked;
        RedisServer node = null;
        try (ServerSocket ignored = bus) {   // held until the node runs
            node = RedisClusterNodes.start(dir, b -> b, () -> {
                int port = offered.isEmpty() ? first : RedisClusterNodes.freePort();
                offered.add(port);
                return port;
            });
            int port = node.ports().get(0);
            assertThat(offered).as("the taken pair was tried first, then another").hasSize(2).startsWith(blocked);
            assertThat(port).isEqualTo(offered.get(1));
            RedisClient client = RedisClient.create("redis://127.0.0.1:" + port);
            try (StatefulRedisConnection<String, String> c = client.connect()) {
                assertThat(c.sync().clusterInfo()).contains("cluster_known_nodes:1");
            } finally {
                client.shutdown();
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(loopback, port + RedisClusterNodes.BUS_OFFSET), 2_000);   // its bus listens
            }
        } finally {
            if (node != null) node.stop();
        }
    }

    @Test
    void aNodeThatFailsForAnotherReasonIsNotStartedAgain() {
        List<Integer> offered = new ArrayList<>();
        assertThatThrownBy(() -> RedisClusterNodes.start(dir, b -> b.setting("no-such-directive yes"), () -> {
            int port = RedisClusterNodes.freePort();
            offered.add(port);
            return port;
        })).isInstanceOf(IOException.class).hasStackTraceContaining("no-such-directive");
        assertThat(offered).hasSize(1);
    }
}
