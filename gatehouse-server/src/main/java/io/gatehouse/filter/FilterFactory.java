package io.gatehouse.filter;

/**
 * Makes the filter of one {@code filters:} entry from its config record, when a route is built (at start and on each
 * reload; the filter then serves every exchange of that route, concurrently on every event loop).
 *
 * @param <C> the type's config record
 */
@FunctionalInterface
public interface FilterFactory<C extends Record> {
    Filter create(C config, FilterContext context);
}
