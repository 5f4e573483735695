package io.gatehouse;

import java.time.Instant;

/**
 * What became of one reload of the configuration file.
 *
 * @param source  what asked for it: {@code signal} (SIGHUP), {@code admin} ({@code POST /reload}) or
 *                {@code file_watch} ({@code server.watch_config})
 * @param result  {@code applied} or {@code refused}
 * @param error   why it was refused (each problem as {@code file:line:col: key: message}, one a line); null if applied
 * @param summary what is served after it, e.g. {@code 1 listeners, 2 clusters}
 */
public record ReloadOutcome(Instant time, String source, String result, String error, String summary) {
    public static final String APPLIED = "applied";
    public static final String REFUSED = "refused";

    public boolean applied() {
        return APPLIED.equals(result);
    }
}
