package io.gatehouse.filter;

/**
 * What a {@link FilterFactory} may use besides its config: where the filter sits, the clusters (whose upstream
 * clients a filter calls other services through, with their timeouts, TLS and pools), the whole configuration
 * (consumers), the server's clock and its metrics registry.
 *
 * @param listener the listener's name
 * @param route    the route's name
 * @param clusters the clusters of the configuration being built, by name
 * @param config   the configuration being built
 * @param clock    the server's clock: wall time for expiry, monotonic time for durations
 * @param meters   where a filter registers its counters (bounded labels only)
 * @param redis    the shared Redis of the {@code redis:} section, or null when there is none
 * @param internalClusters makes the implicit clusters a filter reaches a URL through when no cluster is named for it
 *                 (a {@code jwks_url}, an OIDC provider), on the server's event loops
 */
public record FilterContext(String listener, String route, java.util.Map<String, io.gatehouse.cluster.Cluster> clusters,
                            io.gatehouse.config.GatehouseConfig config, io.gatehouse.clock.Clock clock,
                            io.micrometer.core.instrument.MeterRegistry meters, io.gatehouse.redis.Redis redis,
                            io.gatehouse.cluster.InternalClusters internalClusters) {
    /** Outside a running server: implicit clusters get an event loop of their own. */
    public FilterContext(String listener, String route, java.util.Map<String, io.gatehouse.cluster.Cluster> clusters,
                         io.gatehouse.config.GatehouseConfig config, io.gatehouse.clock.Clock clock,
                         io.micrometer.core.instrument.MeterRegistry meters, io.gatehouse.redis.Redis redis) {
        this(listener, route, clusters, config, clock, meters, redis, io.gatehouse.cluster.InternalClusters.standalone());
    }
}
