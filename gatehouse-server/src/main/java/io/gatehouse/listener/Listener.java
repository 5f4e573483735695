package io.gatehouse.listener;

import io.gatehouse.config.HttpLimitsConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.route.RouteTable;
import io.gatehouse.telemetry.RouteMeters;
import io.gatehouse.telemetry.Telemetry;
import io.gatehouse.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.gatehouse.http.Http1RequestDecoder;
import io.netty.util.concurrent.Ticker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A bound address serving HTTP/1.1 and HTTP/2. Holds one immutable {@link Snapshot} (its configuration and its routes
 * with their filter chains), swapped whole on reload; a request uses the snapshot that was current when its head
 * arrived. It starts each exchange the same way for both protocols ({@link #dispatch}) and hears each end once
 * ({@link #completion()}).
 */
public final class Listener implements io.gatehouse.telemetry.ListenerStats {
    private static final Logger log = LoggerFactory.getLogger(Listener.class);

    private final String name;
    private final io.gatehouse.clock.Clock clock;   // monotonic for timeouts, wall for what is dated
    private final Ticker ticker;
    /** What a reload swaps, as one value: the listener's settings and its routes (each with its filter chain). */
    public record Snapshot(ListenerConfig config, RouteTable routes, io.gatehouse.http.Cidrs trustedProxies) {
        public Snapshot(ListenerConfig config, RouteTable routes) {
            this(config, routes, new io.gatehouse.http.Cidrs(config.proxyHeaders().trustedProxies()));
        }
    }

    private volatile Snapshot snapshot;
    private volatile io.gatehouse.tls.ServerTls tls;   // null: plain HTTP
    private volatile boolean draining;
    private Channel serverChannel;
    private final Set<Channel> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong exchanges = new AtomicLong();
    private final java.util.concurrent.atomic.LongAdder bytesReceived = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder bytesSent = new java.util.concurrent.atomic.LongAdder();
    private final Telemetry telemetry;
    private final RouteMeters unrouted;
    private final HttpExchange.CompletionHook completion;

    public Listener(ListenerConfig config, RouteTable routes, io.gatehouse.clock.Clock ticker, Telemetry telemetry) {
        this.name = config.name();
        this.snapshot = new Snapshot(config, routes);
        this.ticker = ticker;
        this.clock = ticker;
        this.telemetry = telemetry;
        this.unrouted = telemetry.metrics().unrouted(name);
        this.completion = ex -> {
            exchanges.incrementAndGet();
            RouteMeters m = ex.route() instanceof io.gatehouse.route.Route r && r.meters() != null ? r.meters() : unrouted;
            telemetry.exchangeDone(ex, m);
        };
        this.tls = config.tls() == null ? null : io.gatehouse.tls.ServerTls.create(config.name(), offered(config), ticker);
    }

    /** Binds and starts accepting; returns the bound address. */
    public InetSocketAddress bind(EventLoopGroup group, Transport transport) throws InterruptedException {
        InetSocketAddress address = io.gatehouse.config.HostPort.parse(config().address(), true).resolve();
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.ALLOCATOR, Transport.ALLOCATOR)
                .childOption(ChannelOption.ALLOCATOR, Transport.ALLOCATOR)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                // a client may send its request and then shut its output: answer it before closing
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, Transport.WATER_MARK)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, Transport.RECV_ALLOCATOR)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        initPipeline(ch.pipeline());
                    }
                });
        serverChannel = b.bind(address).sync().channel();
        InetSocketAddress bound = (InetSocketAddress) serverChannel.localAddress();
        log.info("listener {} bound {} ({})", name, io.gatehouse.config.HostPort.format(bound), transport.name());
        return bound;
    }

    /**
     * A new connection's pipeline: HTTP/1.1, or (h2c) a detector that installs HTTP/1.1 or HTTP/2 once the first
     * bytes tell which.
     */
    private void initPipeline(ChannelPipeline p) {
        io.gatehouse.tls.ServerTls t = tls;
        if (t != null) p.addLast("tls", t.newHandler()); // SNI picks the certificate, then it becomes the SslHandler
        if (t != null) {
            // after the handshake, ALPN says which protocol's handlers go behind TLS
            p.addLast("alpn", new AlpnProtocolSelector(this));
            return;
        }
        if (config().http2().h2c()) {
            p.addLast("detect", new CleartextProtocolDetector(this));
        } else {
            installHttp1(p);
        }
    }

    /** How {@link #dispatch} ended. */
    enum Dispatch { FILTERS, ANSWERED, BODY_TOO_LARGE }

    /**
     * Starts an exchange whose head is in, for either protocol: settles its request id, routes it (tagging it with its
     * route, so whatever answers is counted under it), opens its tracing span, and runs its route's filter chain.
     * Answers itself what no route takes: CONNECT (405, no tunnels), no matching route (404), a declared body over the
     * route's limit (413).
     */
    Dispatch dispatch(HttpExchange ex, io.netty.handler.codec.http.HttpHeaders headers) {
        Snapshot s = snapshot;
        ex.trustedProxies(s.trustedProxies());
        if (s.config().proxyHeaders().requestId()) requestId(ex, headers);
        io.netty.handler.codec.http.HttpRequest request = ex.request();
        if (request.method().equals(io.netty.handler.codec.http.HttpMethod.CONNECT)) {
            io.gatehouse.http.LocalResponse.fail(ex, io.netty.handler.codec.http.HttpResponseStatus.METHOD_NOT_ALLOWED, "connect_not_supported");
            return Dispatch.ANSWERED;
        }
        io.gatehouse.route.Route route = s.routes().match(request.method().name(), ex.host(), ex.path(), headers,
                ex.connection().clientCertificate());
        if (route == null) {
            io.gatehouse.http.LocalResponse.fail(ex, io.netty.handler.codec.http.HttpResponseStatus.NOT_FOUND, "no_route");
            return Dispatch.ANSWERED;
        }
        ex.route(route);
        io.gatehouse.telemetry.Tracing tracing = telemetry.tracing();
        if (tracing != null) {
            // the span covers the whole chain; its traceparent replaces the client's on the way to the endpoint
            ex.span(tracing.start(headers, request.method().name(), ex.path(), ex.clientIp().toString(),
                    route.name(), route.config().cluster()));
        }
        long limit = route.maxBodySize();
        if (limit > 0 && io.netty.handler.codec.http.HttpUtil.getContentLength(request, 0L) > limit) {
            io.gatehouse.http.LocalResponse.fail(ex, io.netty.handler.codec.http.HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body_too_large");
            return Dispatch.BODY_TOO_LARGE;
        }
        io.gatehouse.filter.FilterChain.start(route.filters(), ex);
        return Dispatch.FILTERS;
    }

    /** The client's X-Request-Id when it is sane, otherwise a new one (put in the request): set before any filter runs. */
    private static void requestId(HttpExchange ex, io.netty.handler.codec.http.HttpHeaders h) {
        CharSequence id = h instanceof io.gatehouse.http.FlatHttpHeaders flat ? flat.first(io.gatehouse.http.RequestIds.HEADER)
                : h.get(io.gatehouse.http.RequestIds.HEADER);
        if (!io.gatehouse.http.RequestIds.valid(id)) {
            io.netty.util.AsciiString generated = io.gatehouse.http.RequestIds.next();
            if (id != null) h.set(io.gatehouse.http.RequestIds.HEADER, generated);
            else h.add(io.gatehouse.http.RequestIds.HEADER, generated);
            id = generated;
        }
        ex.requestId(id);
    }

    /** The listener's TLS settings with ALPN trimmed to what it serves: no h2 while {@code http2.enabled} is off. */
    private static io.gatehouse.config.TlsConfig offered(ListenerConfig config) {
        io.gatehouse.config.TlsConfig tls = config.tls();
        if (config.http2().enabled() || !tls.alpn().contains(io.gatehouse.config.AlpnProtocol.H2)) return tls;
        return tls.withAlpn(tls.alpn().stream().filter(p -> p != io.gatehouse.config.AlpnProtocol.H2).toList());
    }

    /** HTTP/2: Netty's connection handler, one {@link Http2ServerStream} per stream (see {@link Http2Connection}). */
    void installHttp2(ChannelPipeline p) {
        Http2Connection.install(this, p);
    }

    /** The HTTP/1.1 handlers, in order: decode requests, encode responses, serve. */
    void installHttp1(ChannelPipeline p) {
        HttpLimitsConfig limits = config().limits();
        Http1ResponseEncoder encoder = new Http1ResponseEncoder();
        Http1RequestDecoder decoder = new Http1RequestDecoder(limits.maxUriLength(), limits.maxHeaderSize(), limits.maxHeaders());
        Http1ConnectionHandler connection = new Http1ConnectionHandler(this, encoder, decoder);
        p.addLast("decoder", decoder);
        p.addLast("encoder", encoder);
        p.addLast("connection", connection);
    }

    @Override public String name() { return name; }
    public ListenerConfig config() { return snapshot.config(); }
    public RouteTable routes() { return snapshot.routes(); }
    @Override public java.util.List<RouteMeters> routeMeters() {
        return snapshot.routes().routes().stream().map(io.gatehouse.route.Route::meters).filter(java.util.Objects::nonNull).toList();
    }
    /** The configuration and routes in force. */
    public Snapshot snapshot() { return snapshot; }
    /** Hears every exchange's end: metrics and the access log. */
    HttpExchange.CompletionHook completion() { return completion; }
    public Ticker ticker() { return ticker; }
    /** TLS termination of this listener, or null when it serves plain HTTP. */
    public io.gatehouse.tls.ServerTls tls() { return tls; }
    public boolean draining() { return draining; }
    public InetSocketAddress boundAddress() { return (InetSocketAddress) serverChannel.localAddress(); }
    @Override public long rejectedCount() { return rejected.get(); }
    public long exchangeCount() { return exchanges.get(); }
    @Override public int connectionCount() { return connections.size(); }
    /** Bytes read from clients' HTTP connections (request heads and bodies; tunnels not included). */
    @Override public long bytesReceived() { return bytesReceived.sum(); }
    /** Bytes of HTTP responses written to clients (tunnels not included). */
    @Override public long bytesSent() { return bytesSent.sum(); }

    /** Swaps the configuration and routes in (same address); new requests use them at once. */
    public void update(ListenerConfig config, RouteTable routes) {
        this.snapshot = new Snapshot(config, routes);
        io.gatehouse.tls.ServerTls t = tls;
        if (config.tls() == null) {
            tls = null;
            if (t != null) t.close();
        } else if (t == null) {
            try {
                tls = io.gatehouse.tls.ServerTls.create(config.name(), offered(config), clock);
            } catch (RuntimeException e) {
                // the reload is already committing: refuse TLS loudly rather than fail half-way
                log.error("listener {}: TLS not enabled: {}", name, e.getMessage());
            }
        } else {
            t.reconfigure(offered(config));
        }
    }

    /** The open client connections (tests look at what each one buffers). */
    Set<Channel> openConnections() { return java.util.Collections.unmodifiableSet(connections); }

    void connectionOpened(Channel ch) { connections.add(ch); if (draining) ch.close(); }
    void connectionClosed(Channel ch) { connections.remove(ch); }
    void rejected() { rejected.incrementAndGet(); }

    /** A request refused before routing, answered with {@code status} and the connection closed. */
    void rejectedRequest(String clientIp, int status, String reason, long responseBytes) {
        rejected.incrementAndGet();
        telemetry.rejected(unrouted, clientIp, status, reason, responseBytes);
    }

    /** Traffic of a connection since it last reported. */
    void countBytes(long received, long sent) {
        if (received != 0) bytesReceived.add(received);
        if (sent != 0) bytesSent.add(sent);
    }

    /** Stops accepting; idle connections close now, busy ones after their response. */
    public void startDrain() {
        draining = true;
        if (tls != null) tls.close();
        if (serverChannel != null) serverChannel.close().syncUninterruptibly();
        for (Channel ch : connections) {
            ch.eventLoop().execute(() -> {
                Http1ConnectionHandler h = ch.pipeline().get(Http1ConnectionHandler.class);
                Http2Connection h2 = h == null ? ch.pipeline().get(Http2Connection.class) : null;
                if (h != null) h.drain(); else if (h2 != null) h2.drain(); else ch.close();
            });
        }
    }

    /** Closes every remaining connection. */
    public void closeAll() {
        draining = true;
        if (tls != null) tls.close();
        if (serverChannel != null) serverChannel.close();
        for (Channel ch : connections) {
            // an HTTP/2 connection's own close waits for its streams: past the drain, they are cut
            Http2Connection h2 = ch.pipeline().get(Http2Connection.class);
            if (h2 != null) h2.closeNow(); else ch.close();
        }
    }
}
