package io.gatehouse.cluster.health;

/**
 * Where health checking and outlier detection report what they did, besides their log line: the admin API's event
 * log listens here. Calls come from event loops, so an implementation must be quick and must not block.
 */
public interface HealthEvents {
    /** Listens to nothing. */
    HealthEvents NONE = new HealthEvents() {
        @Override
        public void healthChanged(String cluster, String endpoint, boolean healthy, String message) {}

        @Override
        public void ejectionChanged(String cluster, String endpoint, boolean ejected, String message) {}
    };

    /** Active health checks turned {@code endpoint} healthy or unhealthy; {@code message} says why. */
    void healthChanged(String cluster, String endpoint, boolean healthy, String message);

    /** Outlier detection ejected {@code endpoint} ({@code ejected}) or let it return. */
    void ejectionChanged(String cluster, String endpoint, boolean ejected, String message);
}
