package io.gatehouse.app.links;

import java.time.Instant;

/** What the redirect path needs of a link: all of it fits in one cache entry. */
public record Redirect(String code, String target, boolean permanent, Instant expiresAt, long version) {

    static Redirect of(Link l) {
        return new Redirect(l.code(), l.target(), l.permanent(), l.expiresAt(), l.version());
    }

    public boolean expired(Instant now) {
        return expiresAt != null && !now.isBefore(expiresAt);
    }
}
