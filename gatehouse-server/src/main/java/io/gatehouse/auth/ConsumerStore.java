package io.gatehouse.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.config.ConsumerConfig;
import io.gatehouse.redis.Redis;
import io.gatehouse.redis.SharedHash;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;

/**
 * The consumers managed at runtime through the admin API: a Redis hash ({@code gatehouse:consumers}, one JSON value
 * per consumer) that every edge copies ({@link SharedHash}: a change is seen everywhere within
 * {@link SharedHash#POLL} plus two round trips, well under a second). API keys are stored as their SHA-256 only; a
 * new key is shown once, in the answer that made it. One per Redis connection.
 */
public final class ConsumerStore implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConsumerStore.class);
    public static final String KEY = "gatehouse:consumers";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    /** The consumers of one version of the hash. */
    public record Snapshot(long version, Map<String, ConsumerConfig> consumers) {}

    /** The name is taken (by the config, or by another runtime consumer). */
    public static final class Conflict extends RuntimeException {
        Conflict(String message) { super(message, null, false, false); }
    }

    /** No runtime consumer has this name. */
    public static final class NotFound extends RuntimeException {
        NotFound(String message) { super(message, null, false, false); }
    }

    /** A consumer and the API key just made for it (shown once; only its hash is kept). */
    public record WithKey(ConsumerConfig consumer, String apiKey) {}

    private final SharedHash hash;
    private volatile Snapshot snapshot = new Snapshot(-1, Map.of());

    private ConsumerStore(Redis redis) {
        this.hash = new SharedHash(redis, KEY);
        hash.onChange(s -> snapshot = parse(s));
    }

    /** The store of {@code redis}'s process (made on first use, closed with the connection). */
    public static ConsumerStore of(Redis redis) {
        return redis.shared(ConsumerStore.class, () -> new ConsumerStore(redis));
    }

    public Snapshot snapshot() {
        return snapshot;
    }

    private static Snapshot parse(SharedHash.Snapshot s) {
        Map<String, ConsumerConfig> out = new HashMap<>();
        for (Map.Entry<String, String> e : s.entries().entrySet()) {
            try {
                out.put(e.getKey(), fromJson(JSON.readTree(e.getValue())));
            } catch (Exception ex) {
                log.warn("consumers: runtime consumer {} is not valid and is ignored: {}", e.getKey(), ex.getMessage());
            }
        }
        log.info("consumers: version {}, {} managed at runtime", s.version(), out.size());
        return new Snapshot(s.version(), Map.copyOf(out));
    }

    /** A new high-entropy API key: 256 random bits, so one SHA-256 round is enough to store it. */
    public static String newKey() {
        byte[] bits = new byte[32];
        RANDOM.nextBytes(bits);
        return "gh_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bits);
    }

    static String sha256Hex(String key) {
        return HexFormat.of().formatHex(Consumers.sha256(key.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * Adds {@code consumer} with a new API key (its own keys, if any, are ignored). Fails with {@link Conflict} when
     * the name exists in Redis.
     */
    public CompletableFuture<WithKey> create(ConsumerConfig consumer) {
        String key = newKey();
        ConsumerConfig c = new ConsumerConfig(consumer.name(), consumer.groups(), consumer.metadata(),
                List.of(new ConsumerConfig.ApiKeyHashConfig(sha256Hex(key), null)), consumer.disabled(), consumer.passwordHash(), consumer.plan());
        return hash.add(c.name(), toJsonText(c)).thenApply(added -> {
            if (!added) throw new Conflict("a consumer named " + c.name() + " exists");
            return new WithKey(c, key);
        });
    }

    /**
     * Gives {@code name} a new API key; its current keys keep working until {@code now + overlap} (or their own,
     * earlier, expiry), so clients can move over without a failed request.
     */
    public CompletableFuture<WithKey> rotate(String name, Duration overlap, Instant now) {
        String key = newKey();
        Instant until = now.plus(overlap);
        return change(name, c -> {
            List<ConsumerConfig.ApiKeyHashConfig> keys = new ArrayList<>();
            for (ConsumerConfig.ApiKeyHashConfig k : c.apiKeys()) {
                if (k.expires() != null && !k.expires().isAfter(now)) continue;   // long gone: drop it
                keys.add(new ConsumerConfig.ApiKeyHashConfig(k.sha256(), k.expires() == null || k.expires().isAfter(until) ? until : k.expires()));
            }
            keys.add(new ConsumerConfig.ApiKeyHashConfig(sha256Hex(key), null));
            return new ConsumerConfig(c.name(), c.groups(), c.metadata(), keys, c.disabled(), c.passwordHash(), c.plan());
        }).thenApply(c -> new WithKey(c, key));
    }

    /** Disables (every credential refused, 403) or enables {@code name}. */
    public CompletableFuture<ConsumerConfig> disabled(String name, boolean disabled) {
        return change(name, c -> new ConsumerConfig(c.name(), c.groups(), c.metadata(), c.apiKeys(), disabled, c.passwordHash(), c.plan()));
    }

    /** Deletes {@code name}: its keys stop working on every edge. */
    public CompletableFuture<Void> delete(String name) {
        return hash.remove(name).thenApply(removed -> {
            if (!removed) throw new NotFound("no runtime consumer named " + name);
            return null;
        });
    }

    /** Read, change, and write back only if nobody changed it meanwhile (then read again, a few times). */
    private CompletableFuture<ConsumerConfig> change(String name, UnaryOperator<ConsumerConfig> edit) {
        return change(name, edit, 3);
    }

    private CompletableFuture<ConsumerConfig> change(String name, UnaryOperator<ConsumerConfig> edit, int tries) {
        return hash.read(name).thenCompose(old -> {
            if (old == null) throw new NotFound("no runtime consumer named " + name);
            ConsumerConfig next;
            try {
                next = edit.apply(fromJson(JSON.readTree(old)));
            } catch (java.io.IOException e) {
                throw new IllegalStateException("consumer " + name + " in Redis is not valid JSON", e);
            }
            return hash.replace(name, old, toJsonText(next)).thenCompose(ok -> {
                if (ok) return CompletableFuture.completedFuture(next);
                if (tries <= 1) throw new Conflict("consumer " + name + " was changed concurrently; try again");
                return change(name, edit, tries - 1);
            });
        });
    }

    /** How a consumer looks in Redis and in the admin API (key hashes only). */
    public static Map<String, Object> toJson(ConsumerConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", c.name());
        m.put("groups", c.groups());
        m.put("metadata", c.metadata());
        if (c.plan() != null) m.put("plan", c.plan());
        m.put("disabled", c.disabled());
        List<Map<String, Object>> keys = new ArrayList<>();
        for (ConsumerConfig.ApiKeyHashConfig k : c.apiKeys()) {
            Map<String, Object> km = new LinkedHashMap<>();
            km.put("sha256", k.sha256());
            if (k.expires() != null) km.put("expires", k.expires().toString());
            keys.add(km);
        }
        m.put("api_keys", keys);
        if (c.passwordHash() != null) m.put("password_hash", c.passwordHash());
        return m;
    }

    private static String toJsonText(ConsumerConfig c) {
        try {
            return JSON.writeValueAsString(toJson(c));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A consumer from JSON (the admin API's body, or Redis). {@code name} is required; {@code groups},
     * {@code metadata}, {@code plan}, {@code disabled}, {@code api_keys} and {@code password_hash} are optional.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static ConsumerConfig fromJson(JsonNode n) {
        if (n == null || !n.isObject()) throw new IllegalArgumentException("body: a JSON object is required");
        for (var it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!List.of("name", "groups", "metadata", "plan", "disabled", "api_keys", "password_hash").contains(f)) {
                throw new IllegalArgumentException(f + ": unknown field (name, groups, metadata, plan, disabled, api_keys, password_hash)");
            }
        }
        List<String> groups = new ArrayList<>();
        JsonNode g = n.get("groups");
        if (g != null && !g.isNull()) {
            if (!g.isArray()) throw new IllegalArgumentException("groups: must be an array of strings");
            for (JsonNode e : g) {
                if (!e.isTextual()) throw new IllegalArgumentException("groups: must be an array of strings");
                groups.add(e.asText());
            }
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonNode md = n.get("metadata");
        if (md != null && !md.isNull()) {
            if (!md.isObject()) throw new IllegalArgumentException("metadata: must be an object of strings");
            for (var it = md.fields(); it.hasNext(); ) {
                var e = it.next();
                if (!e.getValue().isTextual()) throw new IllegalArgumentException("metadata." + e.getKey() + ": must be a string");
                metadata.put(e.getKey(), e.getValue().asText());
            }
        }
        List<ConsumerConfig.ApiKeyHashConfig> keys = new ArrayList<>();
        JsonNode ks = n.get("api_keys");
        if (ks != null && !ks.isNull()) {
            if (!ks.isArray()) throw new IllegalArgumentException("api_keys: must be an array");
            for (JsonNode k : ks) {
                JsonNode exp = k.get("expires");
                Instant expires;
                try {
                    expires = exp == null || exp.isNull() ? null : Instant.parse(exp.asText());
                } catch (java.time.format.DateTimeParseException e) {
                    throw new IllegalArgumentException("api_keys.expires: an ISO-8601 instant");
                }
                keys.add(new ConsumerConfig.ApiKeyHashConfig(k.path("sha256").asText(null), expires));
            }
        }
        JsonNode disabled = n.get("disabled");
        if (disabled != null && !disabled.isNull() && !disabled.isBoolean()) throw new IllegalArgumentException("disabled: true or false");
        return new ConsumerConfig(text(n, "name"), groups, metadata, keys, disabled != null && disabled.asBoolean(),
                text(n, "password_hash"), text(n, "plan"));
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw new IllegalArgumentException(field + ": must be a string");
        return v.asText();
    }

    @Override
    public void close() {
        hash.close();
    }
}
