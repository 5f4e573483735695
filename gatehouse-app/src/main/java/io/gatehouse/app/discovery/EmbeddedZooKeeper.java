package io.gatehouse.app.discovery;

import org.apache.curator.test.TestingServer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A real ZooKeeper 3.9 server in this JVM (Curator's TestingServer wraps ZooKeeperServerMain): one node, enough
 * for {@code gatehouse up}. Production points {@code zookeeper} at a three- or five-node ensemble instead.
 */
public final class EmbeddedZooKeeper implements AutoCloseable {
    private final TestingServer server;

    private EmbeddedZooKeeper(TestingServer server) {
        this.server = server;
    }

    /** @param port 0 for any free port; {@code dataDir} null for a temporary one */
    public static EmbeddedZooKeeper start(int port, Path dataDir) throws Exception {
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
