package io.gatehouse.app.users;

import io.gatehouse.app.cache.Redis;
import io.gatehouse.app.http.ProblemException;
import io.lettuce.core.SetArgs;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Sessions live in Redis, not in an instance, so any instance serves any signed-in user and instances can die.
 * The cookie holds a random 256-bit token; Redis holds only its SHA-256 (a leaked Redis dump signs nobody in).
 * Without Redis nobody can sign in or be recognised by cookie: sign-in answers 503, requests with a cookie are
 * treated as anonymous (API clients authenticated by the edge are unaffected).
 */
public final class Sessions {
    private final Redis redis;
    private final Duration lifetime;
    private final SecureRandom random = new SecureRandom();

    public Sessions(Redis redis, Duration lifetime) {
        this.redis = redis;
        this.lifetime = lifetime;
    }

    /** Starts a session and returns the token for the cookie. */
    public String open(String user) {
        byte[] raw = new byte[32];
        random.nextBytes(raw);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        try {
            redis.call("SET", c -> c.set(key(token), user, SetArgs.Builder.px(lifetime.toMillis())));
        } catch (Redis.Unavailable e) {
            throw new ProblemException(503, "sessions-unavailable", "Service unavailable", "sign-in is unavailable right now");
        }
        return token;
    }

    public Optional<String> user(String token) {
        if (token == null || token.length() != 43) return Optional.empty();
        try {
            return Optional.ofNullable(redis.call("GET", c -> c.get(key(token))));
        } catch (Redis.Unavailable e) {
            return Optional.empty();
        }
    }

    public void close(String token) {
        try {
            redis.call("DEL", c -> c.del(key(token)));
        } catch (Redis.Unavailable e) {
            // it expires by itself
        }
    }

    public Duration lifetime() {
        return lifetime;
    }

    private static String key(String token) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII));
            return "session:" + HexFormat.of().formatHex(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
