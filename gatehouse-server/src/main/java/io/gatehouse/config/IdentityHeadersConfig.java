package io.gatehouse.config;

/**
 * Headers that carry the caller's identity to the endpoint after authentication. Copies a client sent itself are
 * always removed first, so they cannot be forged; a null name sends nothing for that fact.
 *
 * @param consumer the consumer's name (default {@code x-consumer})
 * @param subject  the token's subject (default {@code x-subject})
 * @param scopes   the granted scopes, space-separated (default {@code x-scopes})
 * @param groups   the consumer's groups, comma-separated (default {@code x-consumer-groups})
 */
public record IdentityHeadersConfig(String consumer, String subject, String scopes, String groups) {
    public static final IdentityHeadersConfig DEFAULT = new IdentityHeadersConfig(null, null, null, null);

    public IdentityHeadersConfig {
        consumer = consumer == null ? "x-consumer" : consumer;
        subject = subject == null ? "x-subject" : subject;
        scopes = scopes == null ? "x-scopes" : scopes;
        groups = groups == null ? "x-consumer-groups" : groups;
    }
}
