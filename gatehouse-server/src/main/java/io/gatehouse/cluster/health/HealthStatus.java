package io.gatehouse.cluster.health;

/**
 * A snapshot of one endpoint's active health checking, for the admin API and logs.
 *
 * @param healthy              current verdict of the checks (what {@code Endpoint.activeHealthy()} holds)
 * @param lastResult           outcome of the latest completed check
 * @param lastFailureReason    why the latest failed check failed ({@code connect refused}, {@code status 503}, …);
 *                             null if no check has failed yet
 * @param consecutiveSuccesses successes in a row, up to now
 * @param consecutiveFailures  failures in a row, up to now
 * @param lastCheckNanos       ticker time of the latest completed check; 0 before the first
 * @param lastTransitionNanos  ticker time of the latest healthy/unhealthy change; 0 if it never changed
 */
public record HealthStatus(boolean healthy, Result lastResult, String lastFailureReason, int consecutiveSuccesses,
                           int consecutiveFailures, long lastCheckNanos, long lastTransitionNanos) {

    public enum Result { NONE, SUCCESS, FAILURE }

    static final HealthStatus INITIAL = new HealthStatus(true, Result.NONE, null, 0, 0, 0, 0);
}
