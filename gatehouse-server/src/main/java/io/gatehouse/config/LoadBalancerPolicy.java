package io.gatehouse.config;

/** How a cluster picks an endpoint; written in snake_case in the file ({@code least_request}). */
public enum LoadBalancerPolicy {
    ROUND_ROBIN, RANDOM, LEAST_REQUEST, LEAST_CONNECTIONS, EWMA, RING_HASH, MAGLEV;

    /** The file's spelling. */
    @com.fasterxml.jackson.annotation.JsonValue
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** From the file's spelling; the message lists the valid ones. */
    public static LoadBalancerPolicy of(String text) {
        for (LoadBalancerPolicy p : values()) if (p.toString().equals(text)) return p;
        throw new IllegalArgumentException("policy: unknown policy '" + text + "', expected one of "
                + java.util.Arrays.stream(values()).map(LoadBalancerPolicy::toString).toList());
    }

    /** Whether it places requests by a hash of the request (and so takes {@code hash:}). */
    public boolean hashing() {
        return this == RING_HASH || this == MAGLEV;
    }
}
