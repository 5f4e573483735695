package io.gatehouse.config;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A consumer: a named client of the API (an app, a partner, a customer) and its credentials. Authentication filters
 * ({@code api_key}, {@code jwt}) map a request to one; authorization, rate limits and metering then key on its name.
 *
 * @param name     unique; what logs, metrics and the {@code X-Consumer} header upstream say
 * @param groups   groups it belongs to (for allow lists)
 * @param metadata free-form facts (tier, owner, …), passed to nobody unless a filter says so
 * @param apiKeys  its API keys, stored only as hashes; more than one during a rotation
 * @param disabled true: every credential of it is refused (403), without deleting it
 * @param plan     its plan: rate limits may differ by plan ({@code rate_limit}'s {@code plans})
 * @param passwordHash for the {@code basic_auth} filter (user name = the consumer's name): a bcrypt ({@code $2b$…})
 *                     or argon2id ({@code $argon2id$…}) hash; the password itself is never stored
 */
public record ConsumerConfig(String name, List<String> groups, Map<String, String> metadata, List<ApiKeyHashConfig> apiKeys,
                             Boolean disabled, String passwordHash, String plan) {
    public ConsumerConfig {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("name: is required");
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._:/@-]{0,255}")) {
            throw new IllegalArgumentException("name: letters, digits and . _ : / @ - only (it travels in headers and labels; a SPIFFE id fits)");
        }
        groups = groups == null ? List.of() : List.copyOf(groups);
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
        apiKeys = apiKeys == null ? List.of() : List.copyOf(apiKeys);
        disabled = disabled == null ? Boolean.FALSE : disabled;
        if (passwordHash != null && !passwordHash.matches("\\$2[aby]?\\$\\d\\d\\$[./A-Za-z0-9]{53}")
                && !passwordHash.startsWith("$argon2id$")) {
            throw new IllegalArgumentException("password_hash: a bcrypt ($2b$…) or argon2id ($argon2id$…) hash; never a password");
        }
    }

    /**
     * One API key, as the hash of the key (the key itself is never stored: {@code gatehouse keys new NAME} prints a
     * key once, with the line to add here).
     *
     * @param sha256  hex SHA-256 of the key
     * @param expires when it stops working (set it on the old key while rotating: both work until then); null: never
     */
    public record ApiKeyHashConfig(String sha256, Instant expires) {
        public ApiKeyHashConfig {
            if (sha256 == null || !sha256.matches("[0-9a-fA-F]{64}")) {
                throw new IllegalArgumentException("sha256: must be the 64 hex digits of the key's SHA-256");
            }
            sha256 = sha256.toLowerCase(java.util.Locale.ROOT);
        }
    }
}
