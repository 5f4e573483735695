package io.gatehouse.app.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.Set;

/**
 * A real PostgreSQL 17 primary and, optionally, a streaming hot standby, both from the zonky bundle.
 *
 * <p>The bundle has no {@code pg_basebackup}, so the standby is made the way pg_basebackup does it underneath: a
 * non-exclusive base backup ({@code pg_backup_start}, copy the data directory, {@code pg_backup_stop}'s label
 * file as {@code backup_label}), then {@code standby.signal} and {@code primary_conninfo}.
 *
 * <p>Data lives under {@code root}; started again on the same root, both servers keep their data (links survive a
 * restart of {@code gatehouse up}). With {@code deleteOnClose}, the root is removed on close (tests).
 */
public final class EmbeddedPostgresCluster implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresCluster.class);
    private static final Set<String> NOT_COPIED = Set.of("postmaster.pid", "postmaster.opts", "epg-lock");

    private final Path root;
    private final boolean deleteOnClose;
    private EmbeddedPostgres primary;
    private EmbeddedPostgres replica;

    private EmbeddedPostgresCluster(Path root, boolean deleteOnClose) {
        this.root = root;
        this.deleteOnClose = deleteOnClose;
    }

    /** Starts the primary (port 0: any free port) and, if asked, a streaming replica of it. */
    public static EmbeddedPostgresCluster start(Path root, boolean deleteOnClose, boolean withReplica,
                                                int primaryPort, int replicaPort) throws IOException {
        return start(root, deleteOnClose, withReplica, false, primaryPort, replicaPort);
    }

    /**
     * As above; with {@code synchronous}, a commit on the primary returns only once the replica has it
     * ({@code synchronous_standby_names}), so a failover loses no acknowledged write, at the price of a round trip
     * per commit and of writes that wait while the replica is down.
     */
    public static EmbeddedPostgresCluster start(Path root, boolean deleteOnClose, boolean withReplica, boolean synchronous,
                                                int primaryPort, int replicaPort) throws IOException {
        EmbeddedPostgresCluster cluster = new EmbeddedPostgresCluster(root, deleteOnClose);
        try {
            Files.createDirectories(root);
            Path promoted = root.resolve("replica");
            if (!Files.exists(root.resolve("primary")) && Files.exists(promoted.resolve("PG_VERSION"))
                    && !Files.exists(promoted.resolve("standby.signal"))) {
                // A failover happened last time: the promoted replica is the primary now; a new replica is made below.
                Files.move(promoted, root.resolve("primary"));
            }
            cluster.primary = server(root.resolve("primary"), primaryPort, synchronous && withReplica);
            if (withReplica) cluster.replica = cluster.startReplica(replicaPort);
            return cluster;
        } catch (IOException | RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    private static EmbeddedPostgres server(Path dataDir, int port) throws IOException {
        return server(dataDir, port, false);
    }

    private static EmbeddedPostgres server(Path dataDir, int port, boolean synchronousStandby) throws IOException {
        boolean fresh = !Files.exists(dataDir.resolve("PG_VERSION"));
        EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
                .setDataDirectory(dataDir)
                .setCleanDataDirectory(false) // keep data across restarts; deletion is ours to decide
                .setServerConfig("wal_level", "replica")
                .setServerConfig("max_wal_senders", "5")
                .setServerConfig("hot_standby", "on")
                .setServerConfig("listen_addresses", "127.0.0.1")
                // zonky defaults to synchronous_commit=off: a commit would be acknowledged before its WAL is written
                // anywhere, so a crash loses acknowledged writes even without a failover, and
                // synchronous_standby_names would not be waited for at all. On: acknowledged means in the WAL (and,
                // with a synchronous standby, on the standby too).
                .setServerConfig("synchronous_commit", "on");
        if (synchronousStandby) b.setServerConfig("synchronous_standby_names", "replica1");
        if (port > 0) b.setPort(port);
        log.atInfo().addKeyValue("dataDir", dataDir).addKeyValue("fresh", fresh).log("starting PostgreSQL");
        return b.start();
    }

    private EmbeddedPostgres startReplica(int port) throws IOException {
        Path dir = root.resolve("replica");
        if (!Files.exists(dir.resolve("standby.signal"))) {
            deleteTree(dir);
            baseBackup(primary, root.resolve("primary"), dir);
        } else {
            // The primary picks a new port on each start: point the existing standby at this one.
            Path auto = dir.resolve("postgresql.auto.conf");
            String conf = Files.readString(auto).replaceAll("(?m)^primary_conninfo = .*$", "");
            Files.writeString(auto, conf.strip() + "\n" + conninfo(primary));
        }
        return server(dir, port);
    }

    /** Recipe G5: a non-exclusive base backup copied file by file, while the primary keeps running. */
    private static void baseBackup(EmbeddedPostgres primary, Path from, Path to) throws IOException {
        try (Connection c = primary.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("select pg_backup_start('gatehouse-replica', true)");
            copyDataDirectory(from, to);
            String label;
            try (ResultSet rs = s.executeQuery("select labelfile from pg_backup_stop(true)")) {
                rs.next();
                label = rs.getString(1);
            }
            Files.writeString(to.resolve("backup_label"), label);
            Files.writeString(to.resolve("standby.signal"), "");
            Files.writeString(to.resolve("postgresql.auto.conf"), "\n" + conninfo(primary),
                    StandardOpenOption.APPEND, StandardOpenOption.CREATE);
            Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rwx------"));
        } catch (SQLException e) {
            throw new IOException("base backup of the primary failed: " + e.getMessage(), e);
        }
    }

    private static String conninfo(EmbeddedPostgres primary) {
        return "primary_conninfo = 'host=127.0.0.1 port=" + primary.getPort() + " user=postgres application_name=replica1'\n";
    }

    private static void copyDataDirectory(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(to.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Path rel = from.relativize(file);
                boolean walSegment = rel.getNameCount() > 1 && rel.getName(0).toString().equals("pg_wal") && attrs.isRegularFile();
                if (!walSegment && !NOT_COPIED.contains(rel.toString())) {
                    Files.copy(file, to.resolve(rel.toString()), StandardCopyOption.COPY_ATTRIBUTES);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE; // a temp file the primary removed while we walked
            }
        });
    }

    /**
     * Failover: stops the primary (so it cannot take writes any more: the fence), promotes the replica with
     * {@code pg_promote()} and makes it the primary. There is no replica afterwards. Returns the new primary's URL.
     */
    public String failover() throws SQLException {
        if (replica == null) throw new IllegalStateException("no replica to promote");
        // Killed, not stopped: a clean stop would first ship every last WAL record to the replica, which hides exactly
        // what asynchronous replication loses when a primary really dies.
        kill(root.resolve("primary"));
        closeQuietly(primary);
        try {
            // Fenced for good: on the next start the promoted replica's directory becomes the primary.
            Files.move(root.resolve("primary"), root.resolve("fenced-" + System.currentTimeMillis()));
        } catch (IOException e) {
            throw new SQLException("cannot fence the old primary's data directory: " + e.getMessage(), e);
        }
        try (Connection c = replica.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select pg_promote(true, 60)")) {
            rs.next();
            if (!rs.getBoolean(1)) throw new SQLException("pg_promote did not finish within 60 s");
        }
        primary = replica;
        replica = null;
        return primaryJdbcUrl();
    }

    public String primaryJdbcUrl() {
        return jdbcUrl(primary);
    }

    public String replicaJdbcUrl() {
        return replica == null ? null : jdbcUrl(replica);
    }

    public int primaryPort() { return primary.getPort(); }
    public int replicaPort() { return replica == null ? -1 : replica.getPort(); }
    public boolean hasReplica() { return replica != null; }

    private static String jdbcUrl(EmbeddedPostgres pg) {
        return "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres";
    }

    public static final String USER = "postgres";

    /** Runs one statement on the replica as the superuser (tests pause and resume replay with it). */
    public void onReplica(String sql) throws SQLException {
        try (Connection c = replica.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    @Override
    public void close() {
        closeQuietly(replica);
        closeQuietly(primary);
        replica = null;
        primary = null;
        if (deleteOnClose) deleteTree(root);
    }

    /** SIGKILL to the postmaster of {@code dataDir} (its pid is the first line of postmaster.pid); waits for it to go. */
    private static void kill(Path dataDir) throws SQLException {
        try {
            long pid = Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
            ProcessHandle p = ProcessHandle.of(pid).orElse(null);
            if (p == null) return;
            p.destroyForcibly();
            p.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (IOException | RuntimeException | java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new SQLException("cannot kill the primary: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while killing the primary", e);
        }
    }

    private static void closeQuietly(EmbeddedPostgres pg) {
        if (pg == null) return;
        try {
            pg.close();
        } catch (IOException e) {
            log.warn("stopping PostgreSQL failed", e);
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try (var paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
