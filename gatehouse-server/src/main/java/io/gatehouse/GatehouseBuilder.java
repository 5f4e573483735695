package io.gatehouse;

import io.gatehouse.config.AdminConfig;
import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.ClusterConfig.EndpointConfig;
import io.gatehouse.config.ClusterConfig.HealthCheckConfig;
import io.gatehouse.config.ClusterConfig.LoadBalancerConfig;
import io.gatehouse.config.CompressionConfig;
import io.gatehouse.config.FilterConfig;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.config.MatchConfig;
import io.gatehouse.config.RetryConfig;
import io.gatehouse.config.RouteConfig;
import io.gatehouse.config.TlsConfig;
import io.gatehouse.filter.Filter;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Runs the edge inside a Java program or its tests, without a YAML file: the builder makes the same immutable config
 * records a file would, so every default and rule is the file's (Armeria's builders are the model).
 * <pre>{@code
 * Gatehouse edge = Gatehouse.builder()
 *         .cluster("api", c -> c.endpoint("127.0.0.1:9001").endpoint("127.0.0.1:9002").policy("least_request"))
 *         .listener("edge", "127.0.0.1:8080", l -> l
 *                 .route("api", r -> r.pathPrefix("/api").stripPrefix("/api").filter(new AuditFilter()).cluster("api"))
 *                 .route("home", r -> r.path("/").directResponse(200, "hello")))
 *         .start();
 * ...
 * edge.shutdown(Duration.ofSeconds(5));
 * }</pre>
 * A {@link Filter} object given here runs where it stands in the route's chain, like a {@code filters:} entry; it is
 * shown as {@code java} in the admin API. The admin listener is off unless {@link #admin} turns it on.
 */
public final class GatehouseBuilder {
    /** The settings of a filter given as an object: which one. */
    public record JavaFilterConfig(String id) {}

    private static final Map<String, Filter> JAVA_FILTERS = new ConcurrentHashMap<>();
    private static final AtomicLong IDS = new AtomicLong();

    static {
        FilterTypes.register("java", JavaFilterConfig.class, (config, context) -> {
            Filter f = JAVA_FILTERS.get(config.id());
            if (f == null) throw new IllegalArgumentException("no Java filter " + config.id());
            return f;
        });
    }

    private final List<ListenerConfig> listeners = new ArrayList<>();
    private final List<ClusterConfig> clusters = new ArrayList<>();
    private String admin = "off";

    GatehouseBuilder() {}

    /** A listener on {@code address} ({@code 127.0.0.1:0} takes a free port: see {@link Gatehouse#listenerAddress}). */
    public GatehouseBuilder listener(String name, String address, Consumer<ListenerBuilder> spec) {
        ListenerBuilder l = new ListenerBuilder(name, address);
        spec.accept(l);
        listeners.add(l.build());
        return this;
    }

    public GatehouseBuilder cluster(String name, Consumer<ClusterBuilder> spec) {
        ClusterBuilder c = new ClusterBuilder(name);
        spec.accept(c);
        clusters.add(c.build());
        return this;
    }

    /** Serves the admin API and dashboard on {@code address} (off by default when embedded). */
    public GatehouseBuilder admin(String address) {
        this.admin = address;
        return this;
    }

    /** The configuration as records, checked for what a file's checks would catch here: names and references. */
    public GatehouseConfig build() {
        Set<String> names = new HashSet<>();
        for (ClusterConfig c : clusters) {
            if (!names.add(c.name())) throw new IllegalArgumentException("cluster " + c.name() + " is defined twice");
        }
        Set<String> listenerNames = new HashSet<>();
        for (ListenerConfig l : listeners) {
            if (!listenerNames.add(l.name())) throw new IllegalArgumentException("listener " + l.name() + " is defined twice");
            Set<String> routes = new HashSet<>();
            for (RouteConfig r : l.routes()) {
                if (!routes.add(r.name())) throw new IllegalArgumentException("route " + r.name() + " is defined twice in " + l.name());
                if (r.cluster() != null && !names.contains(r.cluster())) {
                    throw new IllegalArgumentException("route " + r.name() + ": unknown cluster " + r.cluster());
                }
            }
        }
        return new GatehouseConfig(listeners, clusters, new AdminConfig(admin, null), null, null, null, null);
    }

    /** Builds and starts serving; the caller shuts it down. */
    public Gatehouse start() {
        return Gatehouse.start(build());
    }

    /** The filter object as a {@code filters:} entry. */
    static FilterConfig javaFilter(Filter filter) {
        String id = "java-" + IDS.incrementAndGet();
        JAVA_FILTERS.put(id, filter);
        return new FilterConfig("java", new JavaFilterConfig(id));
    }

    public static final class ListenerBuilder {
        private final String name;
        private final String address;
        private final List<RouteConfig> routes = new ArrayList<>();
        private final List<FilterConfig> filters = new ArrayList<>();
        private TlsConfig tls;
        private CompressionConfig compression;

        ListenerBuilder(String name, String address) {
            this.name = name;
            this.address = address;
        }

        /** Routes are tried in the order added; the first match wins. */
        public ListenerBuilder route(String name, Consumer<RouteBuilder> spec) {
            RouteBuilder r = new RouteBuilder(name);
            spec.accept(r);
            routes.add(r.build());
            return this;
        }

        /** A filter every route of this listener runs first. */
        public ListenerBuilder filter(Filter filter) {
            filters.add(javaFilter(filter));
            return this;
        }

        /** A built-in or registered filter type, as in a {@code filters:} list ({@code "headers", new HeadersConfig(…)}). */
        public ListenerBuilder filter(String type, Record settings) {
            filters.add(new FilterConfig(type, settings));
            return this;
        }

        /** Terminates TLS with this certificate and key (PEM files). */
        public ListenerBuilder tls(String certFile, String keyFile) {
            this.tls = new TlsConfig(List.of(new TlsConfig.CertificateConfig(certFile, keyFile, null, null)),
                    null, null, null, null, null, null, null, null);
            return this;
        }

        public ListenerBuilder compression(CompressionConfig compression) {
            this.compression = compression;
            return this;
        }

        ListenerConfig build() {
            return new ListenerConfig(name, address, routes, null, null, null, tls, compression, null, filters, null);
        }
    }

    public static final class RouteBuilder {
        private final String name;
        private String host, path, pathPrefix, pathRegex, cluster, stripPrefix, rewritePath;
        private List<String> methods;
        private RouteConfig.DirectResponseConfig directResponse;
        private RouteConfig.RedirectConfig redirect;
        private RetryConfig retries;
        private RouteConfig.RouteTimeoutsConfig timeouts;
        private Long maxBodySize;
        private boolean inheritFilters = true;
        private final List<FilterConfig> filters = new ArrayList<>();

        RouteBuilder(String name) {
            this.name = name;
        }

        public RouteBuilder host(String host) { this.host = host; return this; }
        public RouteBuilder path(String path) { this.path = path; return this; }
        public RouteBuilder pathPrefix(String prefix) { this.pathPrefix = prefix; return this; }
        public RouteBuilder pathRegex(String regex) { this.pathRegex = regex; return this; }
        public RouteBuilder methods(String... methods) { this.methods = List.of(methods); return this; }
        public RouteBuilder stripPrefix(String prefix) { this.stripPrefix = prefix; return this; }
        public RouteBuilder rewritePath(String path) { this.rewritePath = path; return this; }
        public RouteBuilder maxBodySize(long bytes) { this.maxBodySize = bytes; return this; }
        public RouteBuilder retries(RetryConfig retries) { this.retries = retries; return this; }
        public RouteBuilder timeouts(RouteConfig.RouteTimeoutsConfig timeouts) { this.timeouts = timeouts; return this; }
        /** Only this route's own filters, not the listener's. */
        public RouteBuilder withoutListenerFilters() { this.inheritFilters = false; return this; }

        /** Adds a filter to the route's chain (in the order added, after the listener's, before the action). */
        public RouteBuilder filter(Filter filter) {
            filters.add(javaFilter(filter));
            return this;
        }

        /** A built-in or registered filter type, as in a {@code filters:} list. */
        public RouteBuilder filter(String type, Record settings) {
            filters.add(new FilterConfig(type, settings));
            return this;
        }

        /** Action: proxy to this cluster. */
        public RouteBuilder cluster(String cluster) { this.cluster = cluster; return this; }

        /** Action: a fixed answer. */
        public RouteBuilder directResponse(int status, String body) {
            this.directResponse = new RouteConfig.DirectResponseConfig(status, body, null);
            return this;
        }

        /** Action: a redirect to {@code location}. */
        public RouteBuilder redirect(int status, String location) {
            this.redirect = new RouteConfig.RedirectConfig(status, location, null, null, null);
            return this;
        }

        RouteConfig build() {
            MatchConfig match = new MatchConfig(host, path, pathPrefix, pathRegex, methods, null, null);
            return new RouteConfig(name, match, cluster, directResponse, redirect, stripPrefix, rewritePath, null,
                    maxBodySize, timeouts, retries, null, null, null, filters, inheritFilters);
        }
    }

    public static final class ClusterBuilder {
        private final String name;
        private final List<EndpointConfig> endpoints = new ArrayList<>();
        private String policy;
        private HealthCheckConfig healthCheck;

        ClusterBuilder(String name) {
            this.name = name;
        }

        public ClusterBuilder endpoint(String address) {
            endpoints.add(EndpointConfig.of(address));
            return this;
        }

        public ClusterBuilder endpoint(String address, int weight) {
            endpoints.add(new EndpointConfig(address, weight, false));
            return this;
        }

        /** {@code round_robin} (default), {@code least_request}, {@code random}, … as in the file. */
        public ClusterBuilder policy(String policy) {
            this.policy = policy;
            return this;
        }

        public ClusterBuilder healthCheck(HealthCheckConfig healthCheck) {
            this.healthCheck = healthCheck;
            return this;
        }

        ClusterConfig build() {
            LoadBalancerConfig lb = policy == null ? null : new LoadBalancerConfig(policy, null, null, null, null, null, null, null);
            return new ClusterConfig(name, endpoints, lb, healthCheck, null, null, null, null, null, null);
        }
    }
}
