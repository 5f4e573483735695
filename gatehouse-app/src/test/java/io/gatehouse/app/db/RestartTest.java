package io.gatehouse.app.db;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Data survives restarts of the embedded pair, the standby follows the primary's new port, and a failover sticks. */
class RestartTest {
    static Path root;

    @AfterAll
    static void cleanUp() {
        EmbeddedPostgresCluster.deleteTree(root);
    }

    static void sql(String url, String statement) throws Exception {
        try (Connection c = DriverManager.getConnection(url, "postgres", ""); Statement s = c.createStatement()) {
            s.execute(statement);
        }
    }

    static long count(String url) throws Exception {
        try (Connection c = DriverManager.getConnection(url, "postgres", ""); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from t")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    // The waits for the standby are bounds for a hang: after a restart it (re)connects to the primary in real time,
    // and a standby that started before its primary was ready retries only after wal_retrieve_retry_interval (5 s).
    @Test
    void restartKeepsDataAndReplicationAndAFailoverSticks() throws Exception {
        root = Files.createTempDirectory("gatehouse-restart");
        try (EmbeddedPostgresCluster first = EmbeddedPostgresCluster.start(root, false, true, 0, 0)) {
            sql(first.primaryJdbcUrl(), "create table t (id int)");
            sql(first.primaryJdbcUrl(), "insert into t values (1)");
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> count(first.replicaJdbcUrl()) == 1);
        }
        try (EmbeddedPostgresCluster second = EmbeddedPostgresCluster.start(root, false, true, 0, 0)) {
            assertThat(count(second.primaryJdbcUrl())).isEqualTo(1);
            sql(second.primaryJdbcUrl(), "insert into t values (2)");
            // the standby found the primary on its new port
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> count(second.replicaJdbcUrl()) == 2);
            String promoted = second.failover();
            sql(promoted, "insert into t values (3)");
            assertThat(count(promoted)).isEqualTo(3);
        }
        try (EmbeddedPostgresCluster third = EmbeddedPostgresCluster.start(root, false, true, 0, 0)) {
            assertThat(count(third.primaryJdbcUrl())).isEqualTo(3); // the promoted server is the primary now
            sql(third.primaryJdbcUrl(), "insert into t values (4)");
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> count(third.replicaJdbcUrl()) == 4);
        }
    }
}
