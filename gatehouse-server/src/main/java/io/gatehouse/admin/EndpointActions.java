package io.gatehouse.admin;

import io.gatehouse.cluster.Cluster;
import io.gatehouse.cluster.Endpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Operator changes to one endpoint at run time: drain (no new requests; those in flight finish), disable, enable
 * (clears both) and weight. Each takes effect at once (the cluster's load balancer is rebuilt), is logged as one line
 * and recorded as an {@code admin} event. The state lives on the {@link Endpoint}, so it survives config reloads
 * that keep the endpoint.
 */
final class EndpointActions {
    private static final Logger log = LoggerFactory.getLogger(EndpointActions.class);
    static final int MIN_WEIGHT = 1;
    static final int MAX_WEIGHT = 1000;

    private final EventLog events;

    EndpointActions(EventLog events) {
        this.events = events;
    }

    void drain(Cluster c, Endpoint e) {
        e.draining(true);
        changed(c, e, "drained: no new requests, " + e.inFlight() + " in flight finish");
    }

    void disable(Cluster c, Endpoint e) {
        e.disabled(true);
        changed(c, e, "disabled: out of rotation");
    }

    void enable(Cluster c, Endpoint e) {
        e.draining(false);
        e.disabled(false);
        changed(c, e, "enabled: back in rotation");
    }

    /** @throws IllegalArgumentException when {@code weight} is out of 1..1000 */
    void weight(Cluster c, Endpoint e, int weight) {
        if (weight < MIN_WEIGHT || weight > MAX_WEIGHT) {
            throw new IllegalArgumentException("weight must be " + MIN_WEIGHT + ".." + MAX_WEIGHT + ", got " + weight);
        }
        int was = e.weight();
        e.weight(weight);
        changed(c, e, "weight " + was + " -> " + weight);
    }

    private void changed(Cluster c, Endpoint e, String what) {
        c.refresh();
        log.info("admin: cluster={} endpoint={} {}", c.name(), e.address(), what);
        events.record("admin", c.name(), e.address(), what);
    }
}
