package io.gatehouse.app.db;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The primary dies under continuous writes; the replica is promoted and writes are repointed. With synchronous
 * replication no acknowledged write is lost. (Its own cluster: it ends with no primary left of the shared one.)
 */
class FailoverTest {
    static EmbeddedPostgresCluster cluster;
    static Database db;

    @BeforeAll
    static void start() throws Exception {
        cluster = EmbeddedPostgresCluster.start(Files.createTempDirectory("gatehouse-failover"), true, true, true, 0, 0);
        db = new Database(new Database.Settings(cluster.primaryJdbcUrl(), List.of(cluster.replicaJdbcUrl()), "postgres", "", 4,
                Duration.ofSeconds(5), Duration.ofMillis(100)));
        db.write(c -> {
            try (Statement s = c.createStatement()) {
                s.execute("create table acks (id bigint primary key)");
            }
            return null;
        });
    }

    @AfterAll
    static void stop() {
        db.close();
        cluster.close();
    }

    @Test
    void noAcknowledgedWriteIsLostAcrossKillPromoteAndRepoint() throws Exception {
        ConcurrentLinkedQueue<Long> acknowledged = new ConcurrentLinkedQueue<>();
        AtomicLong failed = new AtomicLong();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread writer = Thread.ofVirtual().start(() -> {
            for (long id = 1; running.get(); id++) {
                long n = id;
                try {
                    db.write(c -> {
                        try (PreparedStatement s = c.prepareStatement("insert into acks values (?)")) {
                            s.setLong(1, n);
                            return s.executeUpdate();
                        }
                    });
                    acknowledged.add(n); // the commit returned: the client was told "done"
                } catch (DatabaseException e) {
                    failed.incrementAndGet(); // not acknowledged: the client would retry
                }
            }
        });
        // Bounds for a hang, not rates: a loaded machine commits (synchronously replicated) far slower.
        await().atMost(Duration.ofSeconds(30)).until(() -> acknowledged.size() >= 200);

        String newPrimary = cluster.failover(); // kill the primary, promote the replica
        db.repoint(newPrimary);
        long atRepoint = acknowledged.size();
        await().atMost(Duration.ofSeconds(60)).until(() -> acknowledged.size() >= atRepoint + 200);
        running.set(false);
        writer.join();

        Set<Long> stored = new HashSet<>(db.onPrimary(c -> {
            List<Long> ids = new java.util.ArrayList<>();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select id from acks")) {
                while (rs.next()) ids.add(rs.getLong(1));
            }
            return ids;
        }));
        assertThat(stored).containsAll(acknowledged);
        assertThat(db.replicas()).isEmpty();
        Boolean inRecovery = db.onPrimary(c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select pg_is_in_recovery()")) {
                rs.next();
                return rs.getBoolean(1);
            }
        });
        assertThat(inRecovery).isFalse(); // the promoted server takes writes
    }
}
