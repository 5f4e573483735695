package io.gatehouse.admin;

import io.gatehouse.cluster.health.HealthEvents;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The last {@value #CAPACITY} things that happened to the edge (start, health transitions, ejections and returns,
 * reloads, admin changes), for {@code GET /events} and the dashboard. Events are rare, so a lock is fine; recording
 * never blocks for long and may be called from event loops.
 */
public final class EventLog implements HealthEvents {
    public static final int CAPACITY = 500;

    /** One event; {@code cluster} and {@code endpoint} are null when it is not about one. */
    public record Event(Instant time, String kind, String cluster, String endpoint, String message) {}

    private final Clock clock;
    private final ArrayDeque<Event> ring = new ArrayDeque<>(CAPACITY);

    public EventLog() {
        this(Clock.systemUTC());
    }

    public EventLog(Clock clock) {
        this.clock = clock;
    }

    /** Adds an event, dropping the oldest one when the ring is full. */
    public void record(String kind, String cluster, String endpoint, String message) {
        Event e = new Event(clock.instant(), kind, cluster, endpoint, message);
        synchronized (ring) {
            if (ring.size() == CAPACITY) ring.removeFirst();
            ring.addLast(e);
        }
    }

    /** Up to {@code limit} events, newest first. */
    public List<Event> newest(int limit) {
        synchronized (ring) {
            List<Event> out = new ArrayList<>(Math.min(limit, ring.size()));
            for (Iterator<Event> it = ring.descendingIterator(); it.hasNext() && out.size() < limit; ) out.add(it.next());
            return out;
        }
    }

    @Override
    public void healthChanged(String cluster, String endpoint, boolean healthy, String message) {
        record("health", cluster, endpoint, message);
    }

    @Override
    public void ejectionChanged(String cluster, String endpoint, boolean ejected, String message) {
        record("ejection", cluster, endpoint, message);
    }
}
