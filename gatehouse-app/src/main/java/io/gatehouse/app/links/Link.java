package io.gatehouse.app.links;

import java.time.Instant;

/**
 * A short link. {@code version} grows on every change; the cache uses it to refuse stale fills.
 * {@code code} is also the shard key: a link's home is a function of its code alone (see the README).
 */
public record Link(String code, String target, String owner, boolean permanent, Instant expiresAt,
                   Instant createdAt, Instant updatedAt, long version, long hits) {

    public boolean expired(Instant now) {
        return expiresAt != null && !now.isBefore(expiresAt);
    }
}
