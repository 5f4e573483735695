package io.gatehouse.route;

import io.gatehouse.config.RouteConfig;
import io.gatehouse.filter.Filter;

import java.util.List;

/**
 * A compiled route: what it matches, the filters a matched request passes through, and its terminal action
 * (proxy to a cluster, a direct response or a redirect — each is the last {@link Filter} of {@link #filters()}).
 * Requests flow down the filters in order; responses flow back up.
 *
 * @param listener     the listener it belongs to (for logs and metrics)
 * @param config       the route's configuration
 * @param match        compiled match
 * @param filters      the chain, terminal action last
 * @param maxBodySize  request body limit in bytes (0: none)
 * @param meters       where its exchanges are counted (tagged at routing, so local answers count here too)
 */
public record Route(String listener, RouteConfig config, RouteMatch match, List<Filter> filters, long maxBodySize,
                    io.gatehouse.telemetry.RouteMeters meters) implements io.gatehouse.http.RouteInfo {
    public Route {
        filters = List.copyOf(filters);
    }

    @Override
    public String name() {
        return config.name();
    }

    /** The chain as type names, in order ({@code [headers, compression, proxy]}), for the admin API and logs. */
    public List<String> chain() {
        // a filter without a type name is an object a Java program gave (GatehouseBuilder, FilterTypes.register)
        return filters.stream().map(f -> f instanceof io.gatehouse.filter.NamedFilter n ? n.name() : "java").toList();
    }

    /** The path to send upstream for a request path that matched this route (strip_prefix / rewrite_path). */
    public String rewrite(String path) {
        String strip = config.stripPrefix();
        if (strip != null) {
            String base = strip.endsWith("/") ? strip.substring(0, strip.length() - 1) : strip;
            if (path.startsWith(base)) {
                String rest = path.substring(base.length());
                return rest.isEmpty() ? "/" : rest.startsWith("/") ? rest : "/" + rest;
            }
            return path;
        }
        String rewrite = config.rewritePath();
        if (rewrite != null) {
            return match.rewrite(path, rewrite);
        }
        return path;
    }
}
