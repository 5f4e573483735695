package io.gatehouse.app.db;

import com.zaxxer.hikari.HikariDataSource;

import java.time.Duration;

/**
 * One read replica and what the monitor last learnt about it. The fields are written by the monitor thread and
 * read by request threads; each is volatile and individually meaningful, so no lock is needed.
 */
public final class Replica {
    final String name;
    final HikariDataSource pool;
    volatile Lsn replayed;          // pg_last_wal_replay_lsn() at the last poll; null until known
    volatile Duration lag = Duration.ZERO;
    volatile boolean reachable;
    volatile boolean inReadPool;

    Replica(String name, HikariDataSource pool) {
        this.name = name;
        this.pool = pool;
    }

    public String name() { return name; }
    public Lsn replayed() { return replayed; }
    public Duration lag() { return lag; }
    public boolean reachable() { return reachable; }
    public boolean inReadPool() { return inReadPool; }
}
