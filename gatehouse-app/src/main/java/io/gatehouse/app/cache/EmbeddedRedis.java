package io.gatehouse.app.cache;

import redis.embedded.RedisServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * A real redis-server (6.2, from embedded-redis) as a child process on 127.0.0.1. A cache, so no persistence;
 * {@code maxmemory} with an eviction policy makes it behave like a cache when full instead of refusing writes.
 */
public final class EmbeddedRedis implements AutoCloseable {
    private final RedisServer server;
    private final int port;

    private EmbeddedRedis(RedisServer server, int port) {
        this.server = server;
        this.port = port;
    }

    /** @param port 0 for any free port */
    public static EmbeddedRedis start(int port, String maxMemory, String evictionPolicy) throws IOException {
        IOException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            int p = port > 0 ? port : freePort();
            RedisServer server = RedisServer.newRedisServer()
                    .bind("127.0.0.1")
                    .port(p)
                    .setting("maxmemory " + maxMemory)
                    .setting("maxmemory-policy " + evictionPolicy)
                    .setting("save \"\"")
                    .setting("appendonly no")
                    .onShutdownForceStop(true)
                    .build();
            try {
                server.start();
                return new EmbeddedRedis(server, p);
            } catch (IOException e) {
                last = e; // the probed port was taken in between: probe again
                if (port > 0) break;
            }
        }
        throw last;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    public int port() { return port; }

    public String uri() { return "redis://127.0.0.1:" + port; }

    public boolean running() { return server.isActive(); }

    /** Stops the server (tests use this to show the app degrading to the database). */
    public void stop() throws IOException {
        if (server.isActive()) server.stop();
    }

    /** Starts it again on the same port. */
    public void restart() throws IOException {
        if (!server.isActive()) server.start();
    }

    @Override
    public void close() throws IOException {
        stop();
    }
}
