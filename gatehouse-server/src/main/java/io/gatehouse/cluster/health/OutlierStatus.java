package io.gatehouse.cluster.health;

/**
 * A snapshot of one endpoint's passive health, for the admin API.
 *
 * @param consecutive5xx             5xx responses and gateway failures in a row, since the last success or ejection
 * @param consecutiveGatewayFailures connect failures, resets and timeouts in a row, likewise
 * @param ejections                  times this endpoint has been ejected (the next ejection lasts one base longer)
 * @param ejectedUntilNanos          ticker time the current ejection ends; 0 if not ejected
 */
public record OutlierStatus(int consecutive5xx, int consecutiveGatewayFailures, int ejections, long ejectedUntilNanos) {
}
