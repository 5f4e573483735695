package io.gatehouse.auth;

import io.gatehouse.config.ConsumerConfig;

import java.security.MessageDigest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The configured consumers, indexed by name and by the SHA-256 of each API key. Immutable; rebuilt on reload. */
final class Consumers {
    record KeyEntry(ConsumerConfig consumer, byte[] hash, long expiresMillis) {}

    private final Map<String, ConsumerConfig> byName = new HashMap<>();
    private final Map<String, KeyEntry> byKeyHash = new HashMap<>();

    Consumers(List<ConsumerConfig> consumers) {
        for (ConsumerConfig c : consumers) {
            byName.put(c.name(), c);
            for (ConsumerConfig.ApiKeyHashConfig k : c.apiKeys()) {
                byKeyHash.put(k.sha256(), new KeyEntry(c, java.util.HexFormat.of().parseHex(k.sha256()),
                        k.expires() == null ? Long.MAX_VALUE : k.expires().toEpochMilli()));
            }
        }
    }

    ConsumerConfig byName(String name) {
        return name == null ? null : byName.get(name);
    }

    /**
     * The key entry whose hash is {@code sha256(key)}. The map finds the candidate by the hash's hex; the bytes are then
     * compared in constant time, so a lookup's timing says nothing about how close a guess was.
     */
    KeyEntry byKey(byte[] keyHash) {
        KeyEntry e = byKeyHash.get(java.util.HexFormat.of().formatHex(keyHash));
        return e != null && MessageDigest.isEqual(e.hash(), keyHash) ? e : null;
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
