package io.gatehouse.app.links;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** SQL for links, one statement per method, on the connection the caller chose (primary or replica). */
public final class LinkStore {
    private static final String COLUMNS = "code, target, owner, permanent, expires_at, created_at, updated_at, version, hits";
    /** A version never smaller than the last one, even if the clock stepped back: see V1__links.sql. */
    private static final String NEXT_VERSION = "greatest(version + 1, (extract(epoch from clock_timestamp()) * 1000000)::bigint)";

    private final AtomicLong lookups = new AtomicLong();

    /** How many times the redirect path has queried the database (the cache's effectiveness, and its tests). */
    public long lookups() {
        return lookups.get();
    }

    /** Inserts, or returns null if the code is taken. */
    Link insert(Connection c, String code, String target, String owner, boolean permanent, Instant expiresAt) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("insert into links (code, target, owner, permanent, expires_at) "
                + "values (?, ?, ?, ?, ?) on conflict (code) do nothing returning " + COLUMNS)) {
            s.setString(1, code);
            s.setString(2, target);
            s.setString(3, owner);
            s.setBoolean(4, permanent);
            s.setTimestamp(5, expiresAt == null ? null : Timestamp.from(expiresAt));
            return one(s);
        }
    }

    /** The redirect path's lookup. */
    Link find(Connection c, String code) throws SQLException {
        lookups.incrementAndGet();
        try (PreparedStatement s = c.prepareStatement("select " + COLUMNS + " from links where code = ?")) {
            s.setString(1, code);
            return one(s);
        }
    }

    Link findOwned(Connection c, String code, String owner) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select " + COLUMNS + " from links where code = ? and owner = ?")) {
            s.setString(1, code);
            s.setString(2, owner);
            return one(s);
        }
    }

    Link updateTarget(Connection c, String code, String owner, String target) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("update links set target = ?, updated_at = now(), version = "
                + NEXT_VERSION + " where code = ? and owner = ? returning " + COLUMNS)) {
            s.setString(1, target);
            s.setString(2, code);
            s.setString(3, owner);
            return one(s);
        }
    }

    /** Deletes and returns the deletion's version (for the cache tombstone), or null if there was no such link. */
    Long delete(Connection c, String code, String owner) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("delete from links where code = ? and owner = ? returning " + NEXT_VERSION)) {
            s.setString(1, code);
            s.setString(2, owner);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }

    List<Link> listByOwner(Connection c, String owner, int limit) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select " + COLUMNS + " from links where owner = ? "
                + "order by created_at desc, code limit ?")) {
            s.setString(1, owner);
            s.setInt(2, limit);
            List<Link> out = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) out.add(map(rs));
            }
            return out;
        }
    }

    /**
     * Adds hit counts in one statement: the codes and their counts go as two arrays joined to the table. For 1,000
     * codes that is 4-7 ms of the server's CPU, against 12-15 ms for a JDBC batch of 1,000 one-row updates, which the
     * server runs one by one (bench/RollupCost.java, embedded PostgreSQL 17, 2026-12-05; the roll-up runs every
     * job interval on the primary, which in {@code up} shares the core with the requests). Sorted by code, so the
     * roll-up and the instances' direct flushes (while Redis is down) take the row locks in the same order.
     */
    public void addHits(Connection c, Map<String, Long> hits) throws SQLException {
        if (hits.isEmpty()) return;
        String[] codes = hits.keySet().toArray(String[]::new);
        java.util.Arrays.sort(codes);
        Long[] counts = new Long[codes.length];
        for (int i = 0; i < codes.length; i++) counts[i] = hits.get(codes[i]);
        try (PreparedStatement s = c.prepareStatement("update links set hits = links.hits + v.n "
                + "from unnest(?::text[], ?::bigint[]) as v(code, n) where links.code = v.code")) {
            s.setArray(1, c.createArrayOf("text", codes));
            s.setArray(2, c.createArrayOf("bigint", counts));
            s.executeUpdate();
        }
    }

    /** Deletes up to {@code limit} expired links; returns code → deletion version for the cache tombstones. */
    public Map<String, Long> sweepExpired(Connection c, Instant now, int limit) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("delete from links where code in (select code from links "
                + "where expires_at <= ? order by expires_at limit ? for update skip locked) returning code, " + NEXT_VERSION)) {
            s.setTimestamp(1, Timestamp.from(now));
            s.setInt(2, limit);
            Map<String, Long> out = new java.util.LinkedHashMap<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) out.put(rs.getString(1), rs.getLong(2));
            }
            return out;
        }
    }

    private static Link one(PreparedStatement s) throws SQLException {
        try (ResultSet rs = s.executeQuery()) {
            return rs.next() ? map(rs) : null;
        }
    }

    private static Link map(ResultSet rs) throws SQLException {
        Timestamp expires = rs.getTimestamp("expires_at");
        return new Link(rs.getString("code"), rs.getString("target"), rs.getString("owner"), rs.getBoolean("permanent"),
                expires == null ? null : expires.toInstant(), rs.getTimestamp("created_at").toInstant(),
                rs.getTimestamp("updated_at").toInstant(), rs.getLong("version"), rs.getLong("hits"));
    }
}
