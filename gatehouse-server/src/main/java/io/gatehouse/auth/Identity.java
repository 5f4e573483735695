package io.gatehouse.auth;

import io.netty.util.AttributeKey;

import java.util.List;

/**
 * Who is calling, once an authentication filter accepted the request: attached to the exchange under {@link #KEY}
 * for authorization, rate limits, metering and the identity headers sent upstream.
 *
 * @param consumer the consumer's name, or null when the credential names none we know (a token's subject only)
 * @param subject  the token's subject, or the consumer's name for an API key
 * @param scopes   granted scopes (from {@code scope} or {@code scp}); empty for API keys
 * @param groups   the consumer's groups
 * @param method   how it was established: {@code api_key}, {@code jwt}
 * @param claims   the token's claims (empty for API keys), for authorization rules
 * @param knownConsumer whether {@code consumer} is one we know (configured, or managed at runtime), not merely a name
 *                      a token claims: only known ones get their own metering label
 */
public record Identity(String consumer, String subject, List<String> scopes, List<String> groups, String method,
                       java.util.Map<String, Object> claims, boolean knownConsumer) {
    public static final AttributeKey<Identity> KEY = AttributeKey.valueOf("gatehouse.identity");

    public Identity {
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
        groups = groups == null ? List.of() : List.copyOf(groups);
        claims = claims == null ? java.util.Map.of() : claims;
    }

    /** An identity whose consumer, if any, is not known to be one of ours. */
    public Identity(String consumer, String subject, List<String> scopes, List<String> groups, String method,
                    java.util.Map<String, Object> claims) {
        this(consumer, subject, scopes, groups, method, claims, false);
    }
}
