package io.gatehouse.filter;

/**
 * What a {@link FilterFactory} may use besides its config: where the filter sits, and the clusters (whose upstream
 * clients a filter calls other services through, with their timeouts, TLS and pools).
 *
 * @param listener the listener's name
 * @param route    the route's name
 * @param clusters the clusters of the configuration being built, by name
 */
public record FilterContext(String listener, String route, java.util.Map<String, io.gatehouse.cluster.Cluster> clusters) {}
