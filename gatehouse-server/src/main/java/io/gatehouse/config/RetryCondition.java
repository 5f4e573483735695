package io.gatehouse.config;

import java.util.Map;

/**
 * A condition in a route's {@code retries.on}: the endpoint answered 502, 503 or 504, reset the connection before
 * the response head ({@code reset}), or the per-try timeout passed ({@code timeout}).
 */
public enum RetryCondition implements Spelled {
    STATUS_502("502"), STATUS_503("503"), STATUS_504("504"), RESET("reset"), TIMEOUT("timeout");

    private static final String STATUSES = "list the statuses to retry on: 502, 503, 504";
    private static final String CONNECT = "connect failures are always retried on another endpoint (within attempts)";
    private static final Map<String, String> MISNOMERS = Map.of(
            "5xx", STATUSES, "gateway-error", STATUSES, "connect-failure", CONNECT, "error", CONNECT,
            "http_502", "did you mean '502'?", "http_503", "did you mean '503'?", "http_504", "did you mean '504'?");

    private final String spelling;

    RetryCondition(String spelling) {
        this.spelling = spelling;
    }

    @com.fasterxml.jackson.annotation.JsonValue
    @Override
    public String spelling() {
        return spelling;
    }

    @Override
    public Map<String, String> misnomers() {
        return MISNOMERS;
    }

    /** The condition for an endpoint's status, or null when no condition names it. */
    public static RetryCondition forStatus(int status) {
        return switch (status) {
            case 502 -> STATUS_502;
            case 503 -> STATUS_503;
            case 504 -> STATUS_504;
            default -> null;
        };
    }

    @Override
    public String toString() {
        return spelling;
    }
}
