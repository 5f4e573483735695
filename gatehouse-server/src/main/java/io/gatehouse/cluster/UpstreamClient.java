package io.gatehouse.cluster;

import io.gatehouse.config.RetryConfig;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpRequest;

import java.time.Duration;

/**
 * The one way requests reach a cluster's endpoints, owned by the {@link Cluster}: the proxy's exchanges, health
 * probes and internal callers (JWKS fetches, and what comes: the cache's revalidation, aggregation) all go through
 * it, so they share the cluster's load balancer, pools, TLS, timeouts, retry budget, outlier detection and stats.
 *
 * <p>Two ways in: {@link #call} streams (a request body from a source, the response to a {@link UpstreamCall.Receiver}
 * with backpressure), for the proxy; {@link #send} takes a whole request and completes with a whole response of
 * bounded size, for everyone else.
 */
public final class UpstreamClient {
    private final Cluster cluster;

    UpstreamClient(Cluster cluster) {
        this.cluster = cluster;
    }

    public Cluster cluster() {
        return cluster;
    }

    /**
     * A streaming call on {@code loop} (the caller's event loop: the connection is leased from that loop's pool).
     * Nothing happens until {@link UpstreamCall#start}.
     *
     * @param perTry       the wait for a response head once the request went out; null: the cluster's
     *                     {@code timeouts.response_header}
     * @param preserveHost keep the request's Host instead of the endpoint's address
     * @param upgrade      the request asks for a protocol switch the receiver would tunnel
     * @param hash         {@link Cluster#hash} of the request, for ring_hash and maglev
     * @param startNanos   when the request began, for the cluster's latency stats
     */
    public UpstreamCall call(EventLoop loop, HttpRequest request, UpstreamCall.RequestBody body,
                             UpstreamCall.Receiver receiver, RetryConfig retry, Duration perTry, boolean preserveHost,
                             boolean upgrade, long hash, long startNanos) {
        return new UpstreamCall(cluster, loop, request, body, receiver, retry, perTry, preserveHost, upgrade, hash,
                null, startNanos);
    }
}
