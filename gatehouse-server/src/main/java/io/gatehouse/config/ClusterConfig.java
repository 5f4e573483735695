package io.gatehouse.config;

import java.time.Duration;
import java.util.List;

/**
 * A set of endpoints that serve the same thing, and how to spread load over them and cope with their failures.
 *
 * @param name             unique name, referenced by routes
 * @param endpoints        at least one, unless {@code discovery} finds them; a host name stands for every address
 *                         DNS gives it, re-resolved as its TTL says (see {@code dns})
 * @param loadBalancer     policy and its options
 * @param healthCheck      active health checking; null: none (endpoints count as healthy)
 * @param outlierDetection passive health checking from live traffic; null: defaults (on)
 * @param timeouts         connect, response-header and idle timeouts toward endpoints
 * @param connectionPool   per-endpoint keep-alive pool
 * @param limits           circuit breaking: bounds on connections, pending and concurrent requests
 * @param retryBudget      retries allowed as a share of requests, so retries never amplify an outage
 * @param whenAllUnhealthy {@code fail} (503, default) or {@code panic} (route to every endpoint anyway)
 * @param tls              TLS to the endpoints (and for health checks); null: plain
 * @param protocol         {@code http1} (default), {@code h2} (HTTP/2 over TLS, ALPN h2; needs {@code tls}) or
 *                         {@code h2c} (cleartext HTTP/2 with prior knowledge): what the endpoints are spoken to in
 * @param http2            HTTP/2 connection options, for {@code h2} and {@code h2c}
 * @param responseBuffering hold response bodies a slow client does not take yet, so the endpoint is freed early;
 *                         null: off (responses stream with backpressure)
 * @param dns              how host names among the endpoints are resolved and re-resolved; null: defaults
 * @param discovery        endpoints from a registry (ZooKeeper, Kubernetes) instead of {@code endpoints}; null: none
 */
public record ClusterConfig(
        String name,
        List<EndpointConfig> endpoints,
        LoadBalancerConfig loadBalancer,
        HealthCheckConfig healthCheck,
        OutlierDetectionConfig outlierDetection,
        ClusterTimeoutsConfig timeouts,
        ConnectionPoolConfig connectionPool,
        ClusterLimitsConfig limits,
        RetryBudgetConfig retryBudget,
        WhenAllUnhealthy whenAllUnhealthy,
        UpstreamTlsConfig tls,
        ClusterProtocol protocol,
        Http2Config http2,
        ResponseBufferingConfig responseBuffering,
        DnsConfig dns,
        DiscoveryConfig discovery) {

    public ClusterConfig {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("name: is required");
        endpoints = endpoints == null ? List.of() : List.copyOf(endpoints);
        if (discovery == null && endpoints.isEmpty()) {
            throw new IllegalArgumentException("endpoints: at least one is required (or discovery: to find them in a registry)");
        }
        if (discovery != null && !endpoints.isEmpty()) {
            throw new IllegalArgumentException("discovery: a cluster takes its endpoints either from the file or from discovery, not both");
        }
        dns = dns == null ? DnsConfig.DEFAULT : dns;
        loadBalancer = loadBalancer == null ? LoadBalancerConfig.DEFAULT : loadBalancer;
        outlierDetection = outlierDetection == null ? OutlierDetectionConfig.DEFAULT : outlierDetection;
        timeouts = timeouts == null ? ClusterTimeoutsConfig.DEFAULT : timeouts;
        connectionPool = connectionPool == null ? ConnectionPoolConfig.DEFAULT : connectionPool;
        limits = limits == null ? ClusterLimitsConfig.DEFAULT : limits;
        retryBudget = retryBudget == null ? RetryBudgetConfig.DEFAULT : retryBudget;
        whenAllUnhealthy = whenAllUnhealthy == null ? WhenAllUnhealthy.FAIL : whenAllUnhealthy;
        protocol = protocol == null ? ClusterProtocol.HTTP1 : protocol;
        if (protocol == ClusterProtocol.H2 && tls == null) {
            throw new IllegalArgumentException("protocol: h2 needs tls (use h2c for cleartext HTTP/2)");
        }
        if (protocol == ClusterProtocol.H2C && tls != null) {
            throw new IllegalArgumentException("protocol: h2c is cleartext; with tls use h2");
        }
        if (protocol == ClusterProtocol.H2 && !tls.alpn().equals(List.of(AlpnProtocol.H2))) {
            // HTTP/2 over TLS is negotiated by ALPN: offer h2 only, so an endpoint without it fails the handshake
            tls = new UpstreamTlsConfig(tls.ca(), tls.serverName(), tls.verifyHostname(), tls.cert(), tls.key(),
                    tls.minVersion(), tls.provider(), List.of(AlpnProtocol.H2));
        }
        http2 = http2 == null ? Http2Config.DEFAULT : http2;
    }

    /** As the canonical constructor, with the endpoints from the file and DNS defaults. */
    public ClusterConfig(String name, List<EndpointConfig> endpoints, LoadBalancerConfig loadBalancer,
                         HealthCheckConfig healthCheck, OutlierDetectionConfig outlierDetection,
                         ClusterTimeoutsConfig timeouts, ConnectionPoolConfig connectionPool, ClusterLimitsConfig limits,
                         RetryBudgetConfig retryBudget, WhenAllUnhealthy whenAllUnhealthy, UpstreamTlsConfig tls,
                         ClusterProtocol protocol, Http2Config http2, ResponseBufferingConfig responseBuffering) {
        this(name, endpoints, loadBalancer, healthCheck, outlierDetection, timeouts, connectionPool, limits, retryBudget,
                whenAllUnhealthy, tls, protocol, http2, responseBuffering, null, null);
    }

    /** This cluster with its endpoints found by {@code discovery} instead. */
    public ClusterConfig withDiscovery(DiscoveryConfig discovery) {
        return new ClusterConfig(name, List.of(), loadBalancer, healthCheck, outlierDetection, timeouts, connectionPool,
                limits, retryBudget, whenAllUnhealthy, tls, protocol, http2, responseBuffering, dns, discovery);
    }

    /** As the canonical constructor, without response buffering. */
    public ClusterConfig(String name, List<EndpointConfig> endpoints, LoadBalancerConfig loadBalancer,
                         HealthCheckConfig healthCheck, OutlierDetectionConfig outlierDetection,
                         ClusterTimeoutsConfig timeouts, ConnectionPoolConfig connectionPool, ClusterLimitsConfig limits,
                         RetryBudgetConfig retryBudget, String whenAllUnhealthy, UpstreamTlsConfig tls,
                         ClusterProtocol protocol, Http2Config http2) {
        this(name, endpoints, loadBalancer, healthCheck, outlierDetection, timeouts, connectionPool, limits, retryBudget,
                whenAllUnhealthy == null ? null : WhenAllUnhealthy.of(whenAllUnhealthy), tls, protocol, http2, null);
    }

    /**
     * Response buffering (nginx's {@code proxy_buffering} and {@code proxy_max_temp_file_size}): a response body the
     * client does not take as fast as the endpoint sends it is held, first in memory, then in a temporary file, so the
     * endpoint's connection is released once the whole response is in. Past both bounds reading from the endpoint
     * pauses, as without buffering. Each bound is per exchange.
     *
     * @param memory   bytes held in memory (default 256 KiB)
     * @param tempFile bytes held in a temporary file beyond that (default 0: no file)
     * @param tempDir  where the temporary files go (default: the system's temporary directory)
     */
    public record ResponseBufferingConfig(Long memory, Long tempFile, String tempDir) {
        public ResponseBufferingConfig {
            memory = memory == null ? 256 * 1024L : memory;
            tempFile = tempFile == null ? 0L : tempFile;
            if (memory < 0) throw new IllegalArgumentException("memory: must be >= 0");
            if (tempFile < 0) throw new IllegalArgumentException("temp_file: must be >= 0");
            if (memory == 0 && tempFile == 0) throw new IllegalArgumentException("response_buffering: memory and temp_file are both 0; leave the section out to stream");
            if (tempDir != null && tempDir.isBlank()) throw new IllegalArgumentException("temp_dir: must not be empty");
        }
    }

    /** True when the endpoints are spoken to in HTTP/2 ({@code h2} or {@code h2c}). */
    public boolean http2Upstream() {
        return protocol.http2();
    }

    /** A cluster spoken to in HTTP/1.1, over {@code tls} when not null. */
    public ClusterConfig(String name, List<EndpointConfig> endpoints, LoadBalancerConfig loadBalancer,
                         HealthCheckConfig healthCheck, OutlierDetectionConfig outlierDetection,
                         ClusterTimeoutsConfig timeouts, ConnectionPoolConfig connectionPool, ClusterLimitsConfig limits,
                         RetryBudgetConfig retryBudget, String whenAllUnhealthy, UpstreamTlsConfig tls) {
        this(name, endpoints, loadBalancer, healthCheck, outlierDetection, timeouts, connectionPool, limits, retryBudget,
                whenAllUnhealthy == null ? null : WhenAllUnhealthy.of(whenAllUnhealthy), tls, null, null, null);
    }

    /**
     * HTTP/2 toward the endpoints. Streams share a connection up to the endpoint's SETTINGS_MAX_CONCURRENT_STREAMS
     * (and {@code max_concurrent_streams}, when lower); beyond it another connection opens, within the cluster's
     * {@code limits.max_connections}. A connection without streams closes after {@code connection_pool.idle_timeout}.
     *
     * @param maxConcurrentStreams our own cap on streams per connection (default: only the endpoint's)
     * @param pingInterval         a connection without any frame received for this long is sent a PING; no answer
     *                             within {@code ping_timeout} closes it (null: no keepalive PINGs)
     * @param pingTimeout          how long to wait for the PING's ack (default 10s)
     */
    public record Http2Config(Integer maxConcurrentStreams, Duration pingInterval, Duration pingTimeout) {
        public static final Http2Config DEFAULT = new Http2Config(null, null, null);

        public Http2Config {
            maxConcurrentStreams = maxConcurrentStreams == null ? Integer.MAX_VALUE : maxConcurrentStreams;
            if (maxConcurrentStreams < 1) throw new IllegalArgumentException("max_concurrent_streams: must be >= 1");
            pingTimeout = pingTimeout == null ? Duration.ofSeconds(10) : pingTimeout;
            if (pingInterval != null && pingInterval.isNegative()) throw new IllegalArgumentException("ping_interval: must be positive");
        }
    }

    /** A cluster spoken to in plain HTTP. */
    public ClusterConfig(String name, List<EndpointConfig> endpoints, LoadBalancerConfig loadBalancer,
                         HealthCheckConfig healthCheck, OutlierDetectionConfig outlierDetection,
                         ClusterTimeoutsConfig timeouts, ConnectionPoolConfig connectionPool, ClusterLimitsConfig limits,
                         RetryBudgetConfig retryBudget, String whenAllUnhealthy) {
        this(name, endpoints, loadBalancer, healthCheck, outlierDetection, timeouts, connectionPool, limits, retryBudget,
                whenAllUnhealthy == null ? null : WhenAllUnhealthy.of(whenAllUnhealthy), null, null, null, null);
    }

    /**
     * One endpoint. In YAML either a mapping or the shorthand string {@code host:port}.
     *
     * @param address host:port; a name stands for all its A and AAAA records, each an endpoint with this weight,
     *                re-resolved as the records' TTL says
     * @param weight  relative share, 1..1000 (default 1)
     * @param backup  a standby: used only when no primary endpoint is healthy
     */
    public record EndpointConfig(String address, int weight, boolean backup) {
        public EndpointConfig {
            if (address == null || address.isBlank()) throw new IllegalArgumentException("address: is required");
            weight = weight == 0 ? 1 : weight;
            if (weight < 1 || weight > 1000) throw new IllegalArgumentException("weight: must be 1..1000");
        }

        public static EndpointConfig of(String address) {
            return new EndpointConfig(address, 1, false);
        }
    }

    /**
     * @param policy       round_robin (smooth weighted, default), random, least_request, least_connections, ewma,
     *                     ring_hash, maglev
     * @param hash         for ring_hash/maglev: where the key comes from
     * @param boundedLoad  for ring_hash/maglev: no endpoint gets more than this × the average in-flight requests
     *                     (e.g. 1.25); null: unbounded
     * @param ringSize     ring_hash: virtual nodes in the ring (default 1024 × endpoints, at most 8M)
     * @param tableSize    maglev: lookup table size, a prime (default 65537)
     * @param stickyCookie sticky sessions: remember the endpoint in a cookie, any policy
     * @param slowStart    a new or recovered endpoint's weight ramps up linearly over this window; null: off
     * @param choices      least_request: endpoints sampled per pick (default 2)
     */
    public record LoadBalancerConfig(LoadBalancerPolicy policy, HashConfig hash, Double boundedLoad, Integer ringSize,
                                     Integer tableSize, StickyCookieConfig stickyCookie, Duration slowStart,
                                     Integer choices) {
        /** Every policy, as the file spells them. */
        public static final List<String> POLICIES = java.util.Arrays.stream(LoadBalancerPolicy.values()).map(LoadBalancerPolicy::toString).toList();
        public static final LoadBalancerConfig DEFAULT = new LoadBalancerConfig((LoadBalancerPolicy) null, null, null, null, null, null, null, null);

        /** With the policy as the file spells it ({@code least_request}); null: round robin. */
        public LoadBalancerConfig(String policy, HashConfig hash, Double boundedLoad, Integer ringSize, Integer tableSize,
                                  StickyCookieConfig stickyCookie, Duration slowStart, Integer choices) {
            this(policy == null ? null : LoadBalancerPolicy.of(policy), hash, boundedLoad, ringSize, tableSize, stickyCookie, slowStart, choices);
        }

        public LoadBalancerConfig {
            policy = policy == null ? LoadBalancerPolicy.ROUND_ROBIN : policy;
            boolean hashing = policy.hashing();
            if (hashing && hash == null) hash = HashConfig.CLIENT_IP;
            if (!hashing && hash != null) throw new IllegalArgumentException("hash: only for ring_hash and maglev");
            if (boundedLoad != null && !hashing) throw new IllegalArgumentException("bounded_load: only for ring_hash and maglev");
            if (boundedLoad != null && boundedLoad < 1.0) throw new IllegalArgumentException("bounded_load: must be >= 1.0");
            if (ringSize != null && (ringSize < 1 || ringSize > 8_388_608)) throw new IllegalArgumentException("ring_size: must be 1..8388608");
            if (tableSize != null && !isPrime(tableSize)) throw new IllegalArgumentException("table_size: must be a prime");
            choices = choices == null ? 2 : choices;
            if (choices < 2) throw new IllegalArgumentException("choices: must be >= 2");
        }

        private static boolean isPrime(int n) {
            if (n < 2) return false;
            for (int i = 2; (long) i * i <= n; i++) if (n % i == 0) return false;
            return true;
        }
    }

    /**
     * Where a hash key comes from: exactly one of header, cookie, client_ip (true), path (true).
     */
    public record HashConfig(String header, String cookie, boolean clientIp, boolean path) {
        public static final HashConfig CLIENT_IP = new HashConfig(null, null, true, false);

        public HashConfig {
            int kinds = (header != null ? 1 : 0) + (cookie != null ? 1 : 0) + (clientIp ? 1 : 0) + (path ? 1 : 0);
            if (kinds != 1) throw new IllegalArgumentException("hash needs exactly one of header, cookie, client_ip, path");
        }
    }

    /** Sticky sessions: the cookie names the endpoint chosen first; {@code ttl} null makes it a session cookie. */
    public record StickyCookieConfig(String name, Duration ttl) {
        public StickyCookieConfig {
            name = name == null ? "GATEHOUSE_STICKY" : name;
        }
    }

    /**
     * Active health checking. {@code type} http sends {@code GET path} and expects one of {@code expected_statuses};
     * tcp only connects.
     */
    public record HealthCheckConfig(HealthCheckType type, String path, String host, Duration interval, Double jitter,
                                    Duration timeout, int healthyThreshold, int unhealthyThreshold,
                                    List<String> expectedStatuses) {
        public HealthCheckConfig {
            type = type == null ? HealthCheckType.HTTP : type;
            path = path == null ? "/health" : path;
            if (!path.startsWith("/")) throw new IllegalArgumentException("path: must start with /");
            interval = interval == null ? Duration.ofSeconds(5) : interval;
            jitter = jitter == null ? 0.1 : jitter;
            if (jitter < 0 || jitter > 1) throw new IllegalArgumentException("jitter: must be 0..1 (a share of interval)");
            timeout = timeout == null ? Duration.ofSeconds(1) : timeout;
            healthyThreshold = healthyThreshold == 0 ? 2 : healthyThreshold;
            unhealthyThreshold = unhealthyThreshold == 0 ? 3 : unhealthyThreshold;
            if (healthyThreshold < 1) throw new IllegalArgumentException("healthy_threshold: must be >= 1");
            if (unhealthyThreshold < 1) throw new IllegalArgumentException("unhealthy_threshold: must be >= 1");
            expectedStatuses = expectedStatuses == null ? List.of("200-399") : List.copyOf(expectedStatuses);
            for (String s : expectedStatuses) {
                if (!s.matches("[1-5][0-9][0-9](-[1-5][0-9][0-9])?")) {
                    throw new IllegalArgumentException("expected_statuses: '" + s + "' is not a status or a range like 200-399");
                }
            }
        }

        /** As the canonical constructor, with the type in the file's spelling ({@code http} or {@code tcp}). */
        public HealthCheckConfig(String type, String path, String host, Duration interval, Double jitter,
                                 Duration timeout, int healthyThreshold, int unhealthyThreshold,
                                 List<String> expectedStatuses) {
            this(type == null ? null : HealthCheckType.of(type), path, host, interval, jitter, timeout,
                    healthyThreshold, unhealthyThreshold, expectedStatuses);
        }

        public boolean expects(int status) {
            for (String s : expectedStatuses) {
                int dash = s.indexOf('-');
                int lo = Integer.parseInt(dash < 0 ? s : s.substring(0, dash));
                int hi = dash < 0 ? lo : Integer.parseInt(s.substring(dash + 1));
                if (status >= lo && status <= hi) return true;
            }
            return false;
        }
    }

    /**
     * Passive health: eject endpoints that fail live traffic.
     *
     * @param consecutive5xx               5xx responses in a row that eject (0: off)
     * @param consecutiveGatewayFailures   connect failures, resets and timeouts in a row that eject (0: off)
     * @param baseEjectionTime             first ejection; the n-th lasts n × this, up to max_ejection_time
     * @param maxEjectionPercent           at most this share of the cluster ejected at once
     * @param panicThreshold               when ejections would leave fewer than this percentage of the endpoints
     *                                     (healthy by active checks) available, ejections are ignored and every
     *                                     one of them takes traffic (Envoy's panic threshold; default 50). Outlier
     *                                     detection alone never leaves a cluster without an endpoint, whatever this says
     */
    public record OutlierDetectionConfig(Integer consecutive5xx, Integer consecutiveGatewayFailures,
                                         Duration baseEjectionTime, Duration maxEjectionTime,
                                         Integer maxEjectionPercent, Integer panicThreshold) {
        public static final OutlierDetectionConfig DEFAULT = new OutlierDetectionConfig(null, null, null, null, null, null);

        public OutlierDetectionConfig(Integer consecutive5xx, Integer consecutiveGatewayFailures,
                                      Duration baseEjectionTime, Duration maxEjectionTime, Integer maxEjectionPercent) {
            this(consecutive5xx, consecutiveGatewayFailures, baseEjectionTime, maxEjectionTime, maxEjectionPercent, null);
        }

        public OutlierDetectionConfig {
            consecutive5xx = consecutive5xx == null ? 5 : consecutive5xx;
            consecutiveGatewayFailures = consecutiveGatewayFailures == null ? 3 : consecutiveGatewayFailures;
            baseEjectionTime = baseEjectionTime == null ? Duration.ofSeconds(30) : baseEjectionTime;
            maxEjectionTime = maxEjectionTime == null ? Duration.ofSeconds(300) : maxEjectionTime;
            maxEjectionPercent = maxEjectionPercent == null ? 50 : maxEjectionPercent;
            if (consecutive5xx < 0) throw new IllegalArgumentException("consecutive_5xx: must be >= 0");
            if (consecutiveGatewayFailures < 0) throw new IllegalArgumentException("consecutive_gateway_failures: must be >= 0");
            if (maxEjectionPercent < 0 || maxEjectionPercent > 100) throw new IllegalArgumentException("max_ejection_percent: must be 0..100");
            panicThreshold = panicThreshold == null ? 50 : panicThreshold;
            if (panicThreshold < 0 || panicThreshold > 100) throw new IllegalArgumentException("panic_threshold: must be 0..100");
        }
    }

    /**
     * @param connect        TCP connect to an endpoint; on expiry the request is retried elsewhere, then 503
     * @param responseHeader from the request's last byte sent to the response head; on expiry 504
     * @param idle           the endpoint silent this long while Gatehouse waits on it (not while it holds off reading
     *                       for a slow client, nor while the client's body is awaited): 504 before the head, reset after
     */
    public record ClusterTimeoutsConfig(Duration connect, Duration responseHeader, Duration idle) {
        public static final ClusterTimeoutsConfig DEFAULT = new ClusterTimeoutsConfig(null, null, null);

        public ClusterTimeoutsConfig {
            connect = connect == null ? Duration.ofSeconds(2) : connect;
            responseHeader = responseHeader == null ? Duration.ofSeconds(30) : responseHeader;
            idle = idle == null ? Duration.ofSeconds(60) : idle;
        }
    }

    /**
     * Keep-alive connections to each endpoint (one pool per endpoint and event loop).
     *
     * <p>The default keeps up to 1,024 idle, so a burst's connections stay for the next burst and go after
     * {@code idleTimeout}: a connection closed only because the idle queue was full is opened again at the next
     * burst. With the old default of 64, {@code gatehouse up} at 7,350 redirects/s opened and closed 30-150
     * connections a second to its app instances (each stall of the core is a burst), and their objects were copied
     * by young collections (survivors 8.5 MB, against 1.8 with the default raised; bench/results/2026-12-09-pool-churn.md).
     *
     * @param maxIdlePerEndpoint idle connections kept per endpoint and event loop
     * @param idleTimeout        an idle pooled connection is closed after this
     */
    public record ConnectionPoolConfig(int maxIdlePerEndpoint, Duration idleTimeout) {
        public static final ConnectionPoolConfig DEFAULT = new ConnectionPoolConfig(0, null);

        public ConnectionPoolConfig {
            maxIdlePerEndpoint = maxIdlePerEndpoint == 0 ? 1024 : maxIdlePerEndpoint;
            idleTimeout = idleTimeout == null ? Duration.ofSeconds(60) : idleTimeout;
        }
    }

    /**
     * Circuit breaking and bulkheads for the whole cluster. Over a bound the request gets 503 at once.
     *
     * @param maxConnections  open connections to all endpoints together
     * @param maxPending      requests waiting for a connection
     * @param maxRequests     requests in flight
     */
    public record ClusterLimitsConfig(int maxConnections, int maxPending, int maxRequests) {
        public static final ClusterLimitsConfig DEFAULT = new ClusterLimitsConfig(0, 0, 0);

        public ClusterLimitsConfig {
            maxConnections = maxConnections == 0 ? 10_000 : maxConnections;
            maxPending = maxPending == 0 ? 1_000 : maxPending;
            maxRequests = maxRequests == 0 ? 10_000 : maxRequests;
            if (maxConnections < 1 || maxPending < 1 || maxRequests < 1) throw new IllegalArgumentException("limits: must be >= 1");
        }
    }

    /**
     * @param ratio         retries in flight may be at most this share of requests in flight (default 0.2)
     * @param minRetries    retries always allowed concurrently, so a quiet cluster can still retry
     */
    public record RetryBudgetConfig(Double ratio, Integer minRetries) {
        public static final RetryBudgetConfig DEFAULT = new RetryBudgetConfig(null, null);

        public RetryBudgetConfig {
            ratio = ratio == null ? 0.2 : ratio;
            minRetries = minRetries == null ? 3 : minRetries;
            if (ratio < 0 || ratio > 1) throw new IllegalArgumentException("ratio: must be 0..1");
            if (minRetries < 0) throw new IllegalArgumentException("min_retries: must be >= 0");
        }
    }
}
