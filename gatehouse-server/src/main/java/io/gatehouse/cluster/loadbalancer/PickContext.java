package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;

/**
 * What a load balancer may know about the request it picks for.
 */
public interface PickContext {

    /** The request's hash key (for ring_hash and maglev), already hashed to 64 bits. */
    long hash();

    /** False when the request has no hash key (e.g. the header is missing): hashing policies then pick at random. */
    boolean hasHash();

    /** True for endpoints already tried by this request (retries go elsewhere when they can). */
    boolean excluded(Endpoint endpoint);

    PickContext EMPTY = of(0, false);

    static PickContext of(long hash, boolean hasHash) {
        return new PickContext() {
            @Override public long hash() { return hash; }
            @Override public boolean hasHash() { return hasHash; }
            @Override public boolean excluded(Endpoint endpoint) { return false; }
        };
    }
}
