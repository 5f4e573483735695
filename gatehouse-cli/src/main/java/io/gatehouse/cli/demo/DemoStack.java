package io.gatehouse.cli.demo;

import io.gatehouse.Gatehouse;
import io.gatehouse.config.AdminConfig;
import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.ClusterConfig.EndpointConfig;
import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.ListenerConfig;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code gatehouse up} runs: three {@link DemoEndpoint}s and an edge in front of them, configured by the bundled
 * {@code up.yaml} with the addresses replaced by the ones actually in use.
 */
public final class DemoStack implements AutoCloseable {
    public static final String CONFIG_RESOURCE = "/io/gatehouse/cli/up.yaml";
    public static final String LISTENER = "edge";
    public static final String TLS_LISTENER = "edge-tls";
    public static final String CLUSTER = "demo";
    public static final List<Integer> DEFAULT_PORTS = List.of(9001, 9002, 9003);

    private final List<DemoEndpoint> endpoints;
    private final GatehouseConfig config;
    private final Gatehouse gatehouse;

    private DemoStack(List<DemoEndpoint> endpoints, GatehouseConfig config, Gatehouse gatehouse) {
        this.endpoints = endpoints;
        this.config = config;
        this.gatehouse = gatehouse;
    }

    /** The text of the bundled {@code up.yaml}. */
    public static String bundledYaml() {
        try (InputStream in = DemoStack.class.getResourceAsStream(CONFIG_RESOURCE)) {
            if (in == null) throw new IllegalStateException(CONFIG_RESOURCE + " is missing from the jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static GatehouseConfig bundledConfig() throws ConfigException {
        return ConfigLoader.parse(bundledYaml(), "up.yaml");
    }

    /**
     * {@code base} with the {@code edge} listener bound to {@code listen}, the admin listener on {@code admin}
     * ({@code off} disables it) and the {@code demo} cluster's endpoints replaced by {@code endpoints}.
     */
    public static GatehouseConfig withAddresses(GatehouseConfig base, String listen, String admin,
                                                List<InetSocketAddress> endpoints) {
        return withAddresses(base, listen, "off", null, admin, endpoints);
    }

    /**
     * As {@link #withAddresses(GatehouseConfig, String, String, List)}, with the HTTPS listener bound to
     * {@code tlsListen} ({@code off} removes it) serving the edge certificate in {@code local}.
     */
    public static GatehouseConfig withAddresses(GatehouseConfig base, String listen, String tlsListen,
                                                io.gatehouse.tls.LocalAuthority.Files local, String admin,
                                                List<InetSocketAddress> endpoints) {
        List<ListenerConfig> listeners = base.listeners().stream()
                .filter(l -> !(l.name().equals(TLS_LISTENER) && ("off".equals(tlsListen) || local == null)))
                .map(l -> !l.name().equals(TLS_LISTENER) ? l
                        : new ListenerConfig(l.name(), tlsListen, l.routes(), l.limits(), l.timeouts(), l.proxyHeaders(),
                                withCertificate(l.tls(), local)))
                .map(l -> !l.name().equals(LISTENER) ? l
                        : new ListenerConfig(l.name(), listen, l.routes(), l.limits(), l.timeouts(), l.proxyHeaders()))
                .toList();
        List<EndpointConfig> demoEndpoints = endpoints.stream()
                .map(a -> EndpointConfig.of(a.getHostString() + ":" + a.getPort()))
                .toList();
        List<ClusterConfig> clusters = base.clusters().stream()
                .map(c -> !c.name().equals(CLUSTER) ? c
                        : new ClusterConfig(c.name(), demoEndpoints, c.loadBalancer(), c.healthCheck(),
                                c.outlierDetection(), c.timeouts(), c.connectionPool(), c.limits(), c.retryBudget(),
                                c.whenAllUnhealthy().toString()))
                .toList();
        return new GatehouseConfig(listeners, clusters, new AdminConfig(admin, base.admin().token()), base.server(),
                base.accessLog(), base.tracing(), base.logging());
    }

    /**
     * Starts the demo endpoints on {@code 127.0.0.1} at {@code endpointPorts} (a taken port falls back to a free
     * one; 0 always picks a free one), then the edge. Returns once everything is bound.
     */
    public static DemoStack start(String listen, String admin, List<Integer> endpointPorts) throws ConfigException {
        return start(listen, "off", null, admin, endpointPorts);
    }

    /** As {@link #start(String, String, List)}, plus HTTPS on {@code tlsListen} with the certificate in {@code local}. */
    public static DemoStack start(String listen, String tlsListen, io.gatehouse.tls.LocalAuthority.Files local, String admin,
                                  List<Integer> endpointPorts) throws ConfigException {
        GatehouseConfig base = bundledConfig();
        List<DemoEndpoint> endpoints = new ArrayList<>();
        try {
            for (int i = 0; i < endpointPorts.size(); i++) {
                endpoints.add(DemoEndpoint.start("demo-" + (i + 1), "127.0.0.1", endpointPorts.get(i)));
            }
            GatehouseConfig config = withAddresses(base, listen, tlsListen, local, admin,
                    endpoints.stream().map(DemoEndpoint::address).toList());
            return new DemoStack(List.copyOf(endpoints), config, Gatehouse.start(config));
        } catch (RuntimeException e) {
            endpoints.forEach(DemoEndpoint::close);
            throw e;
        }
    }

    public List<DemoEndpoint> endpoints() {
        return endpoints;
    }

    public GatehouseConfig config() {
        return config;
    }

    public InetSocketAddress edgeAddress() {
        return gatehouse.listenerAddress(LISTENER);
    }

    /** The HTTPS listener's address, or null when it is off. */
    public InetSocketAddress tlsAddress() {
        return config.listeners().stream().anyMatch(l -> l.name().equals(TLS_LISTENER)) ? gatehouse.listenerAddress(TLS_LISTENER) : null;
    }

    private static io.gatehouse.config.TlsConfig withCertificate(io.gatehouse.config.TlsConfig t, io.gatehouse.tls.LocalAuthority.Files local) {
        var cert = new io.gatehouse.config.TlsConfig.CertificateConfig(local.edgeCert().toString(), local.edgeKey().toString(), null, null);
        return new io.gatehouse.config.TlsConfig(List.of(cert), t.minVersion(), t.ciphers(), t.alpn(), t.clientAuth(),
                t.clientCa(), t.provider(), t.reloadInterval(), t.sessionTicketRotation());
    }

    /** Drains the edge for up to {@code drainTimeout}, then stops the demo endpoints. */
    public void shutdown(Duration drainTimeout) {
        try {
            gatehouse.shutdown(drainTimeout);
        } finally {
            endpoints.forEach(DemoEndpoint::close);
        }
    }

    @Override
    public void close() {
        shutdown(Duration.ofSeconds(1));
    }
}
