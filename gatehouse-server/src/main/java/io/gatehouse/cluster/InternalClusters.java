package io.gatehouse.cluster;

import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.UpstreamTlsConfig;
import io.gatehouse.transport.Transport;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Ticker;

import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * Makes the implicit clusters internal callers reach a URL through when no configured cluster is named for it (a
 * {@code jwks_url}, an OIDC provider): one endpoint, the URL's host and port; TLS when the scheme is https (the
 * system's trust store, the certificate checked for the URL's host); the caller's timeout for connecting and for
 * the response head. Such a cluster is a {@link Cluster} like any other, so its requests go through the same
 * {@link UpstreamClient}, on the server's event loops. Whoever makes one closes it.
 */
public final class InternalClusters {
    private static volatile InternalClusters standalone;

    private final Transport transport;
    private final EventLoopGroup group;
    private final Ticker ticker;

    public InternalClusters(Transport transport, EventLoopGroup group, Ticker ticker) {
        this.transport = transport;
        this.group = group;
        this.ticker = ticker;
    }

    /**
     * For code built outside a running server (a filter made by hand in a test or an embedding): a factory of its
     * own, on one daemon event loop made on first use.
     */
    public static InternalClusters standalone() {
        InternalClusters s = standalone;
        if (s == null) {
            synchronized (InternalClusters.class) {
                s = standalone;
                if (s == null) {
                    Transport t = Transport.select("nio");
                    s = standalone = new InternalClusters(t, t.newGroup(1, "gatehouse-internal"), Ticker.systemTicker());
                }
            }
        }
        return s;
    }

    /**
     * A cluster for {@code url}'s scheme, host and port. Resolves the host: call it off the event loops.
     *
     * @throws IllegalArgumentException the URL is not http(s) with a host, or the host does not resolve
     */
    public Cluster forUrl(String url, Duration timeout) {
        URI u = URI.create(url);
        String scheme = u.getScheme();
        if (u.getHost() == null || !("http".equals(scheme) || "https".equals(scheme))) {
            throw new IllegalArgumentException("not an http(s) URL with a host: " + url);
        }
        boolean tls = scheme.equals("https");
        int port = u.getPort() > 0 ? u.getPort() : tls ? 443 : 80;
        String host = u.getHost();
        String address = (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
        UpstreamTlsConfig tlsConfig = tls
                ? new UpstreamTlsConfig(null, host.replaceAll("^\\[|]$", ""), null, null, null, null, null, null) : null;
        ClusterConfig config = new ClusterConfig("internal:" + address, List.of(ClusterConfig.EndpointConfig.of(address)),
                null, null, null, new ClusterConfig.ClusterTimeoutsConfig(timeout, timeout, timeout), null, null, null,
                null, tlsConfig);
        return new Cluster(config, ticker, transport, group);
    }

    /** The request target of {@code url} for its cluster: path and query ({@code /} when empty). */
    public static String target(String url) {
        URI u = URI.create(url);
        String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
        return u.getRawQuery() == null ? path : path + "?" + u.getRawQuery();
    }

    /** The Host field for {@code url}: its authority as written (host, and port when given). */
    public static String host(String url) {
        URI u = URI.create(url);
        return u.getPort() > 0 ? u.getHost() + ":" + u.getPort() : u.getHost();
    }
}
