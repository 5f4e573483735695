package io.gatehouse.app.discovery;

import org.apache.curator.test.TestingServer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A real ZooKeeper 3.9 server in this JVM (Curator's TestingServer wraps ZooKeeperServerMain): one node, enough
 * for {@code gatehouse up}. Production points {@code zookeeper} at a three- or five-node ensemble instead.
 */
public final class EmbeddedZooKeeper implements AutoCloseable {
    static final String MAX_CONNECTIONS = "zookeeper.maxCnxns";
    private final TestingServer server;

    private EmbeddedZooKeeper(TestingServer server) {
        this.server = server;
    }

    /** @param port 0 for any free port; {@code dataDir} null for a temporary one */
    public static EmbeddedZooKeeper start(int port, Path dataDir) throws Exception {
        // A bound on the server's client connections (the app instances and the edge need a handful). ZooKeeper reads
        // it only from this system property, and warns at start when it is unset ("maxCnxns is not configured"):
        // the first line `gatehouse up` printed. One set by the user wins.
        if (System.getProperty(MAX_CONNECTIONS) == null) System.setProperty(MAX_CONNECTIONS, "1000");
        TestingServer s = dataDir == null ? new TestingServer(port > 0 ? port : -1, true)
                : new TestingServer(port > 0 ? port : -1, dataDir.toFile(), true);
        return new EmbeddedZooKeeper(s);
    }

    public String connectString() { return server.getConnectString(); }
    public int port() { return server.getPort(); }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
