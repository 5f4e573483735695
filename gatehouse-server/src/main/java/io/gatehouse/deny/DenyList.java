package io.gatehouse.deny;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.http.Cidrs;
import io.gatehouse.redis.Redis;
import io.gatehouse.redis.SharedHash;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

/**
 * The shared deny list: entries in a Redis hash ({@code gatehouse:deny}) that the admin API of any edge edits, each
 * edge holding a compiled copy that its {@code deny} filters read without a Redis call ({@link SharedHash}: seen
 * everywhere within {@link SharedHash#POLL} plus two round trips). One per Redis connection.
 */
public final class DenyList implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DenyList.class);
    public static final String KEY = "gatehouse:deny";
    static final ObjectMapper JSON = new ObjectMapper();

    /** A compiled copy: a quick test over every network first (nearly every request is not denied), then the entry. */
    record Compiled(long version, List<DenyEntry> entries, Cidrs allNetworks, List<Net> networks, List<Glob> agents, List<Glob> headers) {
        static final Compiled EMPTY = new Compiled(-1, List.of(), Cidrs.NONE, List.of(), List.of(), List.of());
    }

    record Net(Cidrs cidr, DenyEntry entry) {}

    record Glob(Pattern pattern, DenyEntry entry) {}

    private final SharedHash hash;
    private volatile Compiled compiled = Compiled.EMPTY;

    private DenyList(Redis redis) {
        this.hash = new SharedHash(redis, KEY);
        hash.onChange(s -> compiled = compile(s));
    }

    /** The deny list of {@code redis}'s process (made on first use, closed with the connection). */
    public static DenyList of(Redis redis) {
        return redis.shared(DenyList.class, () -> new DenyList(redis));
    }

    private static Compiled compile(SharedHash.Snapshot s) {
        List<DenyEntry> entries = new ArrayList<>();
        for (Map.Entry<String, String> e : s.entries().entrySet()) {
            try {
                entries.add(fromJson(JSON.readTree(e.getValue())));
            } catch (Exception ex) {
                log.warn("deny list: entry {} is not valid and is ignored: {}", e.getKey(), ex.getMessage());
            }
        }
        entries.sort(Comparator.comparing(DenyEntry::id));
        List<Net> nets = new ArrayList<>();
        List<String> all = new ArrayList<>();
        List<Glob> agents = new ArrayList<>();
        List<Glob> headers = new ArrayList<>();
        for (DenyEntry d : entries) {
            switch (d.type()) {
                case "cidr" -> {
                    nets.add(new Net(new Cidrs(List.of(d.value())), d));
                    all.add(d.value());
                }
                case "user_agent" -> agents.add(new Glob(io.gatehouse.http.Globs.pattern(d.value()), d));
                default -> headers.add(new Glob(io.gatehouse.http.Globs.pattern(d.value()), d));
            }
        }
        log.info("deny list: version {}, {} entries", s.version(), entries.size());
        return new Compiled(s.version(), List.copyOf(entries), new Cidrs(all), List.copyOf(nets), List.copyOf(agents), List.copyOf(headers));
    }

    Compiled compiled() {
        return compiled;
    }

    /** Every entry of the copy this edge holds, and its version. */
    public List<DenyEntry> entries() {
        return compiled.entries();
    }

    public long version() {
        return compiled.version();
    }

    /** Adds (or replaces) an entry; completes once Redis has it and this edge's copy does too. */
    public CompletableFuture<Void> add(DenyEntry entry) {
        String json;
        try {
            json = JSON.writeValueAsString(toJson(entry));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return CompletableFuture.failedFuture(e);
        }
        return hash.put(entry.id(), json).thenApply(ok -> null);
    }

    /** The entry as the admin API and Redis show it (times as ISO-8601 text). */
    public static Map<String, Object> toJson(DenyEntry e) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("id", e.id());
        m.put("type", e.type());
        if (e.header() != null) m.put("header", e.header());
        m.put("value", e.value());
        if (e.reason() != null) m.put("reason", e.reason());
        if (e.added() != null) m.put("added", e.added().toString());
        if (e.expires() != null) m.put("expires", e.expires().toString());
        return m;
    }

    /** @throws IllegalArgumentException naming the field that is wrong */
    public static DenyEntry fromJson(com.fasterxml.jackson.databind.JsonNode n) {
        if (n == null || !n.isObject()) throw new IllegalArgumentException("body: a JSON object is required");
        return new DenyEntry(text(n, "type"), text(n, "value"), text(n, "header"), text(n, "reason"),
                instant(n, "added"), instant(n, "expires"));
    }

    private static String text(com.fasterxml.jackson.databind.JsonNode n, String field) {
        com.fasterxml.jackson.databind.JsonNode v = n.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw new IllegalArgumentException(field + ": must be a string");
        return v.asText();
    }

    private static java.time.Instant instant(com.fasterxml.jackson.databind.JsonNode n, String field) {
        String t = text(n, field);
        try {
            return t == null ? null : java.time.Instant.parse(t);
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException(field + ": an ISO-8601 instant such as 2030-01-01T00:00:00Z");
        }
    }

    /** Removes the entry named {@code id}; false when there was none. */
    public CompletableFuture<Boolean> remove(String id) {
        return hash.remove(id);
    }

    /** The entry that denies a request with these facts, or null. On the event loop: no I/O. */
    DenyEntry match(InetAddress client, io.netty.handler.codec.http.HttpHeaders h, long nowMillis) {
        Compiled c = compiled;
        if (client != null && c.allNetworks().contains(client)) {
            for (Net n : c.networks()) if (n.entry().live(nowMillis) && n.cidr().contains(client)) return n.entry();
        }
        if (!c.agents().isEmpty()) {
            String agent = h.get(io.netty.handler.codec.http.HttpHeaderNames.USER_AGENT, "");
            for (Glob g : c.agents()) if (g.entry().live(nowMillis) && g.pattern().matcher(agent).matches()) return g.entry();
        }
        for (Glob g : c.headers()) {
            if (!g.entry().live(nowMillis)) continue;
            for (String v : h.getAll(g.entry().header())) if (g.pattern().matcher(v).matches()) return g.entry();
        }
        return null;
    }

    @Override
    public void close() {
        hash.close();
    }
}
