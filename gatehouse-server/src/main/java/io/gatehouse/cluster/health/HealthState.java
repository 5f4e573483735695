package io.gatehouse.cluster.health;

/**
 * The threshold logic of active health checking for one endpoint, free of sockets and clocks.
 *
 * <p>Rule (a deliberate mix of Envoy and nginx): an endpoint starts <em>healthy</em>, so a fresh or reloaded
 * cluster serves at once instead of answering 503 until the first probe round. The <em>first</em> check is
 * decisive, though: if it fails the endpoint becomes unhealthy at once, so a dead endpoint is dropped within a
 * fraction of one interval rather than after {@code unhealthy_threshold} intervals. From then on
 * {@code unhealthy_threshold} consecutive failures make a healthy endpoint unhealthy and
 * {@code healthy_threshold} consecutive successes make an unhealthy one healthy again.
 *
 * <p>Not thread-safe: each endpoint's probe session owns its state on one event loop.
 */
final class HealthState {
    private final int healthyThreshold;
    private final int unhealthyThreshold;

    private boolean healthy = true;
    private boolean checked;
    private int consecutiveSuccesses;
    private int consecutiveFailures;

    HealthState(int healthyThreshold, int unhealthyThreshold) {
        if (healthyThreshold < 1 || unhealthyThreshold < 1) throw new IllegalArgumentException("thresholds must be >= 1");
        this.healthyThreshold = healthyThreshold;
        this.unhealthyThreshold = unhealthyThreshold;
    }

    /**
     * Continues from {@code previous} (an endpoint carried over by a config reload), so a reload neither forgets an
     * unhealthy verdict nor restarts the runs towards a threshold.
     */
    HealthState(int healthyThreshold, int unhealthyThreshold, HealthStatus previous) {
        this(healthyThreshold, unhealthyThreshold);
        this.healthy = previous.healthy();
        this.checked = previous.lastResult() != HealthStatus.Result.NONE || !previous.healthy();
        this.consecutiveSuccesses = previous.consecutiveSuccesses();
        this.consecutiveFailures = previous.consecutiveFailures();
    }

    HealthTransition recordSuccess() {
        checked = true;
        consecutiveFailures = 0;
        consecutiveSuccesses++;
        if (healthy) return HealthTransition.UNCHANGED;
        if (consecutiveSuccesses >= healthyThreshold) {
            healthy = true;
            return HealthTransition.CHANGED;
        }
        return HealthTransition.CHANGE_PENDING;
    }

    HealthTransition recordFailure() {
        boolean first = !checked;
        checked = true;
        consecutiveSuccesses = 0;
        consecutiveFailures++;
        if (!healthy) return HealthTransition.UNCHANGED;
        if (first || consecutiveFailures >= unhealthyThreshold) {
            healthy = false;
            return HealthTransition.CHANGED;
        }
        return HealthTransition.CHANGE_PENDING;
    }

    boolean healthy() { return healthy; }
    /** Whether any check has completed yet. */
    boolean checked() { return checked; }
    int consecutiveSuccesses() { return consecutiveSuccesses; }
    int consecutiveFailures() { return consecutiveFailures; }
}
