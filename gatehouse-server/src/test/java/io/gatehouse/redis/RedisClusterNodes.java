package io.gatehouse.redis;

import io.lettuce.core.api.StatefulRedisConnection;
import redis.embedded.RedisServer;
import redis.embedded.core.RedisServerBuilder;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntSupplier;
import java.util.function.UnaryOperator;

/**
 * Cluster-enabled redis-server nodes (embedded-redis, Redis 6.2) for the cluster tests, and the cluster made of them.
 */
final class RedisClusterNodes {
    /** Redis 6.2 listens for the cluster bus on its port + 10000; {@code cluster-port} only came with Redis 7. */
    static final int BUS_OFFSET = 10_000;
    static final int ATTEMPTS = 5;

    private RedisClusterNodes() {}

    /**
     * A started cluster node on a port from the kernel, with its files in {@code dir}; {@code settings} adds the
     * test's own. Its port is {@code ports().get(0)}. A free port says nothing about port + 10000, which Redis must
     * also bind: a node that cannot bind either is started again on another port.
     */
    static RedisServer start(Path dir, UnaryOperator<RedisServerBuilder> settings) throws IOException {
        return start(dir, settings, RedisClusterNodes::freePort);
    }

    /** As above, on the ports {@code ports} offers, tried once each, at most {@value #ATTEMPTS} times. */
    static RedisServer start(Path dir, UnaryOperator<RedisServerBuilder> settings, IntSupplier ports) throws IOException {
        Set<Integer> tried = new HashSet<>();
        IOException taken = null;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            int port = ports.getAsInt();
            if (!tried.add(port) || port + BUS_OFFSET > 65_535) continue;
            RedisServer node = settings.apply(RedisServer.newRedisServer().port(port).bind("127.0.0.1")
                    .setting("cluster-enabled yes")
                    .setting("cluster-config-file " + dir.resolve("nodes-" + port + ".conf"))
                    .setting("dir " + dir)
                    .onShutdownForceStop(true)).build();
            try {
                node.start();
                return node;
            } catch (IOException e) {
                // redis-server logs the failed bind to the stdout embedded-redis quotes, then exits; anything else is not ours to retry
                if (!says(e, "Address already in use")) throw e;
                if (taken != null) e.addSuppressed(taken);
                taken = e;
            }
        }
        throw taken != null ? taken : new IOException("no port for a Redis cluster node in " + tried);
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port on loopback", e);
        }
    }

    private static boolean says(Throwable e, String text) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains(text)) return true;
        }
        return false;
    }

    /**
     * Makes one cluster of fresh nodes (slots already added): each gets its own config epoch, 1 to n, as
     * {@code redis-cli --cluster create} does, then the first meets the others. Left at 0, the nodes settle the
     * collision by gossip, one bump at a time; a node made a replica before its turn keeps the epoch of another
     * master, and its {@code CLUSTER FAILOVER TAKEOVER} then takes no new epoch (it holds the greatest already), so
     * the masters keep the slots with the dead master, whose epoch is not lower: the cluster never recovers.
     */
    static void form(List<StatefulRedisConnection<String, String>> nodes, List<Integer> ports) {
        for (int i = 0; i < nodes.size(); i++) nodes.get(i).sync().clusterSetConfigEpoch(i + 1);
        for (int i = 1; i < nodes.size(); i++) nodes.get(0).sync().clusterMeet("127.0.0.1", ports.get(i));
    }
}
