package io.gatehouse.redis;

import redis.embedded.RedisServer;
import redis.embedded.core.RedisServerBuilder;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * Starts cluster-enabled redis-server nodes (embedded-redis, Redis 6.2) on free ports. Redis 6.2 listens for the
 * cluster bus on port + 10000, which a free port from the kernel does not promise (and above 55535 cannot have): the
 * pair is checked before the start, and a node whose ports were taken in between is started again on another pair.
 */
final class RedisClusterNodes {
    private static final int BUS_OFFSET = 10_000;

    private RedisClusterNodes() {}

    /** A port that is free on loopback, and whose cluster-bus port is free too (both may be taken again later). */
    static int freePortWithBus() throws IOException {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        for (int attempt = 0; attempt < 200; attempt++) {
            try (ServerSocket s = new ServerSocket(0, 1, loopback)) {
                int port = s.getLocalPort();
                if (port + BUS_OFFSET > 65_535) continue;
                try (ServerSocket bus = new ServerSocket(port + BUS_OFFSET, 1, loopback)) {
                    return port;
                } catch (IOException taken) {
                    // the bus port is in use: another pair
                }
            }
        }
        throw new IOException("no free port with a free cluster-bus port after 200 tries");
    }

    /**
     * A started cluster node with its files in {@code dir}; {@code settings} adds the test's own. Its port is
     * {@code ports().get(0)}.
     */
    static RedisServer start(Path dir, UnaryOperator<RedisServerBuilder> settings) throws IOException {
        IOException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            int port = freePortWithBus();
            RedisServer node = settings.apply(RedisServer.newRedisServer().port(port).bind("127.0.0.1")
                    .setting("cluster-enabled yes")
                    .setting("cluster-config-file " + dir.resolve("nodes-" + port + ".conf"))
                    .setting("dir " + dir)
                    .onShutdownForceStop(true)).build();
            try {
                node.start();
                return node;
            } catch (IOException taken) {   // a port of the pair was taken between the check and the bind
                last = taken;
                try {
                    node.stop();
                } catch (IOException ignored) {
                    // it did not start
                }
            }
        }
        throw last;
    }
}
