package io.gatehouse.auth;

import io.gatehouse.config.ConsumerConfig;
import io.gatehouse.filter.FilterContext;

import java.util.ArrayList;
import java.util.List;

/**
 * The consumers a filter knows: those of the configuration (its {@code consumers:} and {@code consumers_file:}; a
 * reload brings new ones) and, with Redis, those managed at runtime ({@link ConsumerStore}). A configured consumer
 * wins over a runtime one of the same name (the admin API refuses to make one). The merged index is rebuilt, once,
 * when the store's version moves; a request only reads a volatile field.
 */
public final class ConsumerDirectory {
    private record Merged(long version, Consumers consumers) {}

    private final List<ConsumerConfig> configured;
    private final ConsumerStore store;   // null without Redis
    private volatile Merged merged;

    ConsumerDirectory(List<ConsumerConfig> configured, ConsumerStore store) {
        this.configured = configured;
        this.store = store;
        this.merged = new Merged(Long.MIN_VALUE, new Consumers(configured));
    }

    /** The directory a filter of this context uses. */
    public static ConsumerDirectory of(FilterContext context) {
        return new ConsumerDirectory(context.config().consumers(), context.redis() == null ? null : ConsumerStore.of(context.redis()));
    }

    /** Whether consumers may change without a reload (runtime consumers in Redis). */
    boolean live() {
        return store != null;
    }

    Consumers current() {
        Merged m = merged;
        if (store == null) return m.consumers();
        ConsumerStore.Snapshot s = store.snapshot();
        if (s.version() == m.version()) return m.consumers();
        List<ConsumerConfig> all = new ArrayList<>(configured);
        java.util.Set<String> names = new java.util.HashSet<>();
        for (ConsumerConfig c : configured) names.add(c.name());
        for (ConsumerConfig c : s.consumers().values()) if (!names.contains(c.name())) all.add(c);
        Merged next = new Merged(s.version(), new Consumers(all));
        merged = next;   // two event loops may both build it: the same content, harmless
        return next.consumers();
    }

    /** The consumer named {@code name}, or null. */
    public ConsumerConfig byName(String name) {
        return current().byName(name);
    }
}
