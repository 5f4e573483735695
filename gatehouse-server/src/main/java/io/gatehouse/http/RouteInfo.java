package io.gatehouse.http;

/**
 * What an exchange knows of the route that took it: enough for filters, limits and logs. The route itself (its
 * chain, its action, its meters) is {@code io.gatehouse.route.Route}, which implements this; the exchange keeps only
 * this view so that the HTTP layer does not depend on routing.
 */
public interface RouteInfo {
    /** The route's name, as configured. */
    String name();

    /** The request body limit in bytes; 0: none. */
    long maxBodySize();
}
