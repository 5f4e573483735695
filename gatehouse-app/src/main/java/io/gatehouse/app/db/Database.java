package io.gatehouse.app.db;

import com.zaxxer.hikari.HikariConfig;
import io.gatehouse.app.telemetry.Traces;
import io.opentelemetry.api.trace.Span;
import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * The primary (all writes) and its read replicas, each with its own HikariCP pool.
 *
 * <p>Read-your-writes: every write returns the WAL position of its commit. A client that carries that position
 * back is served by a replica only once the replica has replayed at least that far
 * ({@code pg_last_wal_replay_lsn()}); otherwise by the primary. Replica positions come from a monitor that polls
 * every {@code pollInterval}; a polled position is never ahead of the real one, so the check errs toward the
 * primary, never toward a stale read.
 *
 * <p>Lag is measured in time, not bytes: the monitor remembers when the primary was at each position, so a
 * replica's lag is how long ago the primary was where the replica is now. A replica more than {@code maxLag}
 * behind, or unreachable, leaves the read pool until it catches up.
 */
public final class Database implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Database.class);

    public record Settings(String primaryUrl, List<String> replicaUrls, String user, String password, int poolSize,
                           Duration maxReplicaLag, Duration pollInterval) {
        public Settings {
            replicaUrls = List.copyOf(replicaUrls);
        }
    }

    /** The result of a write and the commit position a client needs for read-your-writes. */
    public record Written<T>(T value, Lsn lsn) {}

    /** The result of a read and who served it ("primary" or a replica name): tests and metrics look at it. */
    public record Read<T>(T value, String source) {}

    private record Sample(long nanos, Lsn lsn) {}

    private final Settings settings;
    private volatile HikariDataSource primary; // replaced by repoint() after a failover
    private final List<Replica> replicas = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Deque<Sample> primaryHistory = new ArrayDeque<>();
    private final AtomicInteger nextReplica = new AtomicInteger();
    private final ScheduledExecutorService monitor;
    private final LongSupplier nanoClock;
    private volatile boolean primaryReachable = true;
    private final Traces traces;

    public Database(Settings settings) {
        this(settings, Traces.OFF);
    }

    /** @param traces a CLIENT span per call made while serving a traced request */
    public Database(Settings settings, Traces traces) {
        this(settings, System::nanoTime, traces);
    }

    Database(Settings settings, LongSupplier nanoClock, Traces traces) {
        this.settings = settings;
        this.traces = traces;
        this.nanoClock = nanoClock;
        this.primary = pool("primary", settings.primaryUrl(), settings.poolSize(), false);
        for (int i = 0; i < settings.replicaUrls().size(); i++) {
            String name = "replica-" + (i + 1);
            replicas.add(new Replica(name, pool(name, settings.replicaUrls().get(i), settings.poolSize(), true)));
        }
        this.monitor = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("replica-monitor").factory());
        if (!replicas.isEmpty()) {
            pollReplicas();
            long every = settings.pollInterval().toMillis();
            monitor.scheduleWithFixedDelay(this::pollReplicas, every, every, TimeUnit.MILLISECONDS);
        }
    }

    private HikariDataSource pool(String name, String url, int size, boolean readOnly) {
        HikariConfig c = new HikariConfig();
        c.setPoolName(name);
        c.setJdbcUrl(url);
        c.setUsername(settings.user());
        c.setPassword(settings.password());
        c.setMaximumPoolSize(size);
        c.setMinimumIdle(Math.min(2, size));
        c.setReadOnly(readOnly);
        // Every network call has a bound: connect, socket read, and the statement itself on the server.
        c.setConnectionTimeout(2_000);
        c.setValidationTimeout(1_000);
        c.addDataSourceProperty("connectTimeout", "2");
        c.addDataSourceProperty("socketTimeout", "10");
        c.addDataSourceProperty("options", "-c statement_timeout=5000");
        c.addDataSourceProperty("ApplicationName", "gatehouse-app");
        // Start even when the database is down: /ready says so and requests get 503s until it is back.
        c.setInitializationFailTimeout(-1);
        return new HikariDataSource(c);
    }

    /** Applies the Flyway migrations to the primary. */
    public void migrate() {
        Flyway.configure().dataSource(primary).locations("classpath:io/gatehouse/app/db/migration").load().migrate();
    }

    /** Runs {@code work} in one transaction on the primary and returns its result with the commit position. */
    public <T> Written<T> write(Sql<T> work) {
        Span span = traces.client("postgresql", "write", "primary");
        try (Connection c = primary.getConnection()) {
            c.setAutoCommit(false);
            T value;
            try {
                value = work.run(c);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
            c.setAutoCommit(true);
            // After a (synchronous, local) commit the insert position is at or past our commit record: a safe bound.
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select pg_current_wal_insert_lsn()")) {
                rs.next();
                span.end();
                return new Written<>(value, Lsn.parse(rs.getString(1)));
            }
        } catch (SQLException | RuntimeException e) {
            Traces.end(span, e);
            if (e instanceof RuntimeException re) throw re;
            throw new DatabaseException("write failed on the primary", e);
        }
    }

    /** Runs {@code work} on the primary, outside an explicit transaction. */
    public <T> T onPrimary(Sql<T> work) {
        Span span = traces.client("postgresql", "query", "primary");
        try (Connection c = primary.getConnection()) {
            T value = work.run(c);
            span.end();
            return value;
        } catch (SQLException | RuntimeException e) {
            Traces.end(span, e);
            if (e instanceof RuntimeException re) throw re;
            throw new DatabaseException("query failed on the primary", e);
        }
    }

    /**
     * Runs a read on a replica that is in the read pool and has replayed at least {@code atLeast} (null: any
     * position), else on the primary. A replica that fails is taken out of the pool and the read retried on the
     * primary.
     */
    public <T> Read<T> read(Lsn atLeast, Sql<T> work) {
        Replica r = pick(atLeast);
        if (r != null) {
            Span span = traces.client("postgresql", "query", r.name);
            try (Connection c = r.pool.getConnection()) {
                T value = work.run(c);
                span.end();
                return new Read<>(value, r.name);
            } catch (SQLException e) {
                Traces.end(span, e);
                log.atWarn().addKeyValue("replica", r.name).setCause(e).log("replica read failed; reading from the primary");
                r.reachable = false;
                r.inReadPool = false;
            } catch (RuntimeException e) {
                Traces.end(span, e);
                throw e;
            }
        }
        return new Read<>(onPrimary(work), "primary");
    }

    private Replica pick(Lsn atLeast) {
        int n = replicas.size();
        if (n == 0) return null;
        int start = Math.floorMod(nextReplica.getAndIncrement(), n);
        for (int i = 0; i < n; i++) {
            Replica r = replicas.get((start + i) % n);
            Lsn replayed = r.replayed;
            if (r.inReadPool && (atLeast == null || replayed != null && replayed.atLeast(atLeast))) return r;
        }
        return null;
    }

    /** One monitoring round: the primary's position, then each replica's replayed position and lag. */
    public synchronized void pollReplicas() {
        long now = nanoClock.getAsLong();
        try {
            Lsn current = onPrimary(c -> {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select pg_current_wal_lsn()")) {
                    rs.next();
                    return Lsn.parse(rs.getString(1));
                }
            });
            primaryReachable = true;
            primaryHistory.addLast(new Sample(now, current));
            // Keep a little more history than the bound: older samples cannot change the verdict.
            long keep = settings.maxReplicaLag().toNanos() * 2 + settings.pollInterval().toNanos() * 4;
            while (primaryHistory.size() > 2 && now - primaryHistory.peekFirst().nanos() > keep) primaryHistory.removeFirst();
        } catch (DatabaseException e) {
            primaryReachable = false;
        }
        for (Replica r : replicas) {
            try (Connection c = r.pool.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("select pg_last_wal_replay_lsn()")) {
                rs.next();
                String text = rs.getString(1);
                r.replayed = text == null ? null : Lsn.parse(text);
                r.reachable = true;
            } catch (SQLException e) {
                r.reachable = false;
            }
            r.lag = lagOf(r.replayed, now);
            boolean within = r.reachable && r.replayed != null && r.lag.compareTo(settings.maxReplicaLag()) <= 0;
            if (within != r.inReadPool) {
                log.atInfo().addKeyValue("replica", r.name).addKeyValue("lagMs", r.lag.toMillis())
                        .addKeyValue("reachable", r.reachable).log(within ? "replica joins the read pool" : "replica leaves the read pool");
            }
            r.inReadPool = within;
        }
    }

    /** How long ago the primary was at {@code replayed}: zero if the replica is at the newest known position. */
    private Duration lagOf(Lsn replayed, long now) {
        if (primaryHistory.isEmpty()) return Duration.ZERO;
        if (replayed == null) return Duration.ofNanos(now - primaryHistory.peekFirst().nanos());
        if (replayed.atLeast(primaryHistory.peekLast().lsn())) return Duration.ZERO;
        // The newest moment at which the primary had not gone past what the replica has replayed; the replica's
        // data is at least as fresh as the primary's was then.
        Sample caughtUpTo = null;
        for (Sample s : primaryHistory) {
            if (replayed.atLeast(s.lsn())) caughtUpTo = s;
        }
        long since = caughtUpTo != null ? caughtUpTo.nanos() : primaryHistory.peekFirst().nanos();
        return Duration.ofNanos(now - since);
    }

    /**
     * Failover, the app's half: writes (and primary reads) go to {@code newPrimaryUrl} from now on, and a replica at
     * that address (the one just promoted) leaves the replica list. In-flight work on the old pool fails and is
     * answered 503; the caller retries. Fencing the old primary is the operator's half (it must not come back as a
     * primary: see EmbeddedPostgresCluster.failover).
     */
    public synchronized void repoint(String newPrimaryUrl) {
        HikariDataSource old = primary;
        primary = pool("primary", newPrimaryUrl, settings.poolSize(), false);
        for (Replica r : replicas) {
            if (r.pool.getJdbcUrl().equals(newPrimaryUrl)) {
                replicas.remove(r);
                r.pool.close();
            }
        }
        primaryHistory.clear(); // positions of the old primary's timeline say nothing about the new one
        old.close();
        log.atWarn().addKeyValue("primary", newPrimaryUrl).log("writes repointed to a new primary");
    }

    public boolean primaryReachable() {
        try (Connection c = primary.getConnection()) {
            primaryReachable = c.isValid(1);
        } catch (SQLException e) {
            primaryReachable = false;
        }
        return primaryReachable;
    }

    public List<Replica> replicas() {
        return List.copyOf(replicas);
    }

    public Duration maxReplicaLag() {
        return settings.maxReplicaLag();
    }

    @Override
    public void close() {
        monitor.shutdownNow();
        replicas.forEach(r -> r.pool.close());
        primary.close();
    }
}
