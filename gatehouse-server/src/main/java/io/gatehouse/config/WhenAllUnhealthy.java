package io.gatehouse.config;

/** What a cluster does when none of its endpoints is healthy: answer 503 ({@code fail}) or use them all ({@code panic}). */
public enum WhenAllUnhealthy {
    FAIL, PANIC;

    @com.fasterxml.jackson.annotation.JsonValue
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static WhenAllUnhealthy of(String text) {
        for (WhenAllUnhealthy w : values()) if (w.toString().equals(text)) return w;
        throw new IllegalArgumentException("when_all_unhealthy: must be fail or panic");
    }
}
