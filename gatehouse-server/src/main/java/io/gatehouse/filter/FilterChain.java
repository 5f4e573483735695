package io.gatehouse.filter;

import io.gatehouse.http.HttpExchange;

import java.util.List;

/** The rest of the chain after the current filter. Cheap: one object per step, created on proceed. */
public final class FilterChain {
    private final List<Filter> filters;
    private final int index;

    private FilterChain(List<Filter> filters, int index) {
        this.filters = filters;
        this.index = index;
    }

    /** Runs {@code filters} on {@code exchange} from the first. */
    public static void start(List<Filter> filters, HttpExchange exchange) {
        new FilterChain(filters, 0).proceed(exchange);
    }

    /** Passes the exchange to the next filter. */
    public void proceed(HttpExchange exchange) {
        if (index >= filters.size()) {
            throw new IllegalStateException("the last filter of a chain must answer the exchange");
        }
        filters.get(index).filter(exchange, new FilterChain(filters, index + 1));
    }
}
