package io.gatehouse.cluster.health;

/** What one health check result did to an endpoint's health (Envoy's {@code HealthTransition}). */
public enum HealthTransition {
    /** Same state as before, and no threshold is being approached. */
    UNCHANGED,
    /** The endpoint crossed a threshold: healthy became unhealthy or the reverse. */
    CHANGED,
    /** The result disagrees with the current state, but the threshold is not reached yet. */
    CHANGE_PENDING
}
