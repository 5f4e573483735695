package io.gatehouse.telemetry;

import io.gatehouse.filter.Filter;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.http.HttpExchange;

/**
 * A route's terminal action that first tags the exchange with the route's meters, so the end of the exchange is
 * counted under its route without any lookup. Wraps rather than precedes the action: no chain step per request.
 *
 * @param action the proxy, direct response or redirect
 */
public record MeteredAction(RouteMeters meters, Filter action) implements Filter {
    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        exchange.meters(meters);
        action.filter(exchange, chain);
    }
}
