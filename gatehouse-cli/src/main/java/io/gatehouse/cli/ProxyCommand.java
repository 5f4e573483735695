package io.gatehouse.cli;

import io.gatehouse.Gatehouse;
import io.gatehouse.config.AdminConfig;
import io.gatehouse.config.CacheConfig;
import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.ClusterConfig.EndpointConfig;
import io.gatehouse.config.ClusterConfig.HealthCheckConfig;
import io.gatehouse.config.ClusterConfig.LoadBalancerConfig;
import io.gatehouse.config.FilterConfig;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.config.RouteConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code gatehouse proxy --to A --to B}: a reverse proxy without a file (like Caddy's {@code reverse-proxy}): one
 * listener, one catch-all route, one cluster. {@code --cache [SIZE]} puts the {@code cache} filter on that route, the
 * one-line form of nginx's {@code proxy_cache}.
 */
@Command(name = "proxy", description = "Quick reverse proxy without a configuration file: one listener, one route, one cluster.")
final class ProxyCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ProxyCommand.class);

    @Spec
    CommandSpec spec;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "0.0.0.0:8080",
            description = "Address to accept clients on (default: ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--to", required = true, paramLabel = "HOST:PORT",
            description = "An endpoint to proxy to; repeat for more.")
    List<String> to;

    @Option(names = "--policy", defaultValue = "round_robin", paramLabel = "POLICY",
            description = "Load-balancing policy: round_robin, random, least_request, least_connections, ewma, ring_hash, maglev (default: ${DEFAULT-VALUE}).")
    String policy;

    @Option(names = "--health-path", paramLabel = "PATH",
            description = "Check endpoints with GET PATH; without it only live traffic takes failing endpoints out.")
    String healthPath;

    @Option(names = "--health-interval", defaultValue = "2s", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Time between health checks (default: ${DEFAULT-VALUE}).")
    Duration healthInterval;

    @Option(names = "--cache", arity = "0..1", fallbackValue = DEFAULT_CACHE_SIZE, paramLabel = "SIZE",
            description = {"Cache responses in memory, up to SIZE (default when given without SIZE: " + DEFAULT_CACHE_SIZE + "),",
                    "as a shared HTTP cache: the origin's Cache-Control decides; a stored copy stands in for an origin that",
                    "errs, times out or answers 5xx; Cache-Status on every answer; PURGE accepted from loopback."})
    String cache;

    @Option(names = "--admin", defaultValue = "off", paramLabel = "HOST:PORT|off",
            description = "Admin listener (default: ${DEFAULT-VALUE}).")
    String admin;

    @Override
    public Integer call() throws InterruptedException {
        GatehouseConfig config;
        try {
            config = config(listen, to, policy, healthPath, healthInterval, admin, cacheSize(cache));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        Gatehouse gatehouse = Gatehouse.start(config);
        spec.commandLine().getOut().println(describe(config, HostPort.format(gatehouse.listenerAddress(LISTENER))));
        spec.commandLine().getOut().flush();
        Foreground.runUntilStopped(() -> {
            log.info("stopping: draining for up to {}", config.server().drainTimeout());
            gatehouse.shutdown(config.server().drainTimeout());
            log.info("stopped");
        });
        return 0;
    }

    static final String LISTENER = "proxy";
    static final String CLUSTER = "proxy";
    static final String DEFAULT_CACHE_SIZE = "256MiB";
    /** How long past expiry a stored response may stand in for a failing origin (nginx proxy_cache_use_stale). */
    static final Duration STALE_ON_ERROR = Duration.ofDays(1);

    /** {@code --cache}'s SIZE in bytes; null without {@code --cache}. */
    static Long cacheSize(String size) {
        if (size == null) return null;
        long bytes;
        try {
            bytes = io.gatehouse.config.ByteSizes.parse(size);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--cache: '" + size + "' is not a size such as 256MiB or 1g");
        }
        if (bytes < 1024) throw new IllegalArgumentException("--cache: at least 1KiB, not '" + size + "'");
        return bytes;
    }

    /** The whole configuration for one {@code proxy} invocation without a cache. */
    static GatehouseConfig config(String listen, List<String> to, String policy, String healthPath,
                                  Duration healthInterval, String admin) {
        return config(listen, to, policy, healthPath, healthInterval, admin, null);
    }

    /**
     * The whole configuration for one {@code proxy} invocation; pure, so it is testable without sockets.
     *
     * @param cacheSize the memory tier's bytes for {@code --cache}; null: no cache
     */
    static GatehouseConfig config(String listen, List<String> to, String policy, String healthPath,
                                  Duration healthInterval, String admin, Long cacheSize) {
        HostPort.require("--listen", listen);
        if (to == null || to.isEmpty()) throw new IllegalArgumentException("--to: at least one endpoint is required");
        to.forEach(address -> HostPort.require("--to", address));
        if (healthPath != null && !healthPath.startsWith("/")) throw new IllegalArgumentException("--health-path: must start with /");
        if (!"off".equals(admin)) HostPort.require("--admin", admin);

        HealthCheckConfig healthCheck = healthPath == null ? null
                : new HealthCheckConfig("http", healthPath, null, healthInterval, null, null, 0, 0, null);
        ClusterConfig cluster = new ClusterConfig(CLUSTER, to.stream().map(EndpointConfig::of).toList(),
                new LoadBalancerConfig(policy, null, null, null, null, null, null, null),
                healthCheck, null, null, null, null, null, null);
        List<FilterConfig> filters = cacheSize == null ? List.of() : List.of(new FilterConfig("cache", new CacheConfig(
                null, cacheSize, null, null, null, null, null, null, null, null, null, null, STALE_ON_ERROR, null, null,
                null, List.of("127.0.0.1/32", "::1/128"), null)));
        RouteConfig route = new RouteConfig("all", null, CLUSTER, null, null, null, null, null, null, null, null, null,
                null, null, filters, null);
        ListenerConfig listener = new ListenerConfig(LISTENER, listen, List.of(route), null, null, null);
        return new GatehouseConfig(List.of(listener), List.of(cluster), new AdminConfig(admin, null), null);
    }

    /** The one line {@code proxy} prints: what it does. */
    static String describe(GatehouseConfig config, String boundAddress) {
        ClusterConfig cluster = config.cluster(CLUSTER);
        String endpoints = String.join(", ", cluster.endpoints().stream().map(EndpointConfig::address).toList());
        String health = cluster.healthCheck() == null ? "no active health checks"
                : "health: GET " + cluster.healthCheck().path() + " every " + seconds(cluster.healthCheck().interval());
        String cache = config.listeners().get(0).routes().get(0).filters().stream()
                .filter(f -> f.settings() instanceof CacheConfig).map(f -> ", cache: " + mebibytes(((CacheConfig) f.settings()).maxSize()) + " in memory")
                .findFirst().orElse("");
        return "gatehouse: proxying http://" + boundAddress + " -> " + endpoints
                + " (" + cluster.loadBalancer().policy() + ", " + health + cache + ")";
    }

    private static String mebibytes(long bytes) {
        return bytes % (1 << 20) == 0 ? (bytes >> 20) + "MiB" : bytes + " bytes";
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }
}
