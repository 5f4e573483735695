package io.gatehouse.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.gatehouse.Gatehouse;
import io.gatehouse.cluster.Cluster;
import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.AdminConfig;
import io.gatehouse.listener.Addresses;
import io.gatehouse.listener.Listener;
import io.gatehouse.route.Route;
import io.gatehouse.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The admin listener: JSON about the running edge, with the same names as the configuration (listener, route,
 * cluster, endpoint). Off the public port, loopback by default; a token is required when one is configured.
 * Requests are small and answered on the event loop from in-memory state, so nothing blocks.
 */
public final class AdminServer {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Gatehouse gatehouse;
    private final AdminConfig config;
    private Channel channel;

    public AdminServer(Gatehouse gatehouse, AdminConfig config) {
        this.gatehouse = gatehouse;
        this.config = config;
    }

    public InetSocketAddress bind(EventLoopGroup group, Transport transport) throws InterruptedException {
        InetSocketAddress address = Addresses.parse(config.address());
        if (!address.getAddress().isLoopbackAddress() && (config.token() == null || config.token().isBlank())) {
            throw new IllegalArgumentException("admin.address " + config.address()
                    + " is not loopback: set admin.token, or bind the admin listener to 127.0.0.1");
        }
        channel = new ServerBootstrap().group(group).channel(transport.serverChannelClass())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new ReadTimeoutHandler(30))
                                .addLast(new HttpServerCodec(4096, 8192, 8192))
                                .addLast(new HttpObjectAggregator(64 * 1024))
                                .addLast(new Handler());
                    }
                }).bind(address).sync().channel();
        InetSocketAddress bound = (InetSocketAddress) channel.localAddress();
        log.info("admin listening on http://{}", Addresses.format(bound));
        return bound;
    }

    public InetSocketAddress boundAddress() {
        return channel == null ? null : (InetSocketAddress) channel.localAddress();
    }

    public void close() {
        if (channel != null) channel.close().syncUninterruptibly();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            FullHttpResponse response;
            try {
                response = answer(request);
            } catch (Exception e) {
                response = json(HttpResponseStatus.INTERNAL_SERVER_ERROR, Map.of("error", String.valueOf(e.getMessage())));
            }
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            HttpUtil.setKeepAlive(response, keepAlive);
            var f = ctx.writeAndFlush(response);
            if (!keepAlive) f.addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private FullHttpResponse answer(FullHttpRequest request) throws Exception {
        if (!request.decoderResult().isSuccess()) {
            return json(HttpResponseStatus.BAD_REQUEST, Map.of("error", "malformed request"));
        }
        if (!authorized(request)) {
            return json(HttpResponseStatus.UNAUTHORIZED, Map.of("error", "missing or wrong bearer token"));
        }
        String path = new QueryStringDecoder(request.uri()).path();
        if (!request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD)) {
            return json(HttpResponseStatus.METHOD_NOT_ALLOWED, Map.of("error", request.method() + " " + path + " is not supported"));
        }
        if (path.equals("/metrics")) return gatehouse.scrapeMetrics(request);
        if (path.equals("/live")) return json(HttpResponseStatus.OK, Map.of("status", "live"));
        if (path.equals("/ready")) {
            boolean ready = gatehouse.ready();
            return json(ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                    Map.of("status", ready ? "ready" : "not ready"));
        }
        if (path.equals("/clusters")) {
            List<Object> out = new ArrayList<>();
            for (Cluster c : gatehouse.clusters().values()) out.add(describe(c));
            return json(HttpResponseStatus.OK, Map.of("clusters", out));
        }
        if (path.startsWith("/clusters/")) {
            Cluster c = gatehouse.cluster(path.substring("/clusters/".length()));
            if (c == null) return json(HttpResponseStatus.NOT_FOUND, Map.of("error", "no cluster named " + path.substring(10)));
            return json(HttpResponseStatus.OK, describe(c));
        }
        if (path.equals("/routes")) {
            List<Object> out = new ArrayList<>();
            for (Listener l : gatehouse.listeners()) {
                for (Route r : l.routes().routes()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("listener", l.name());
                    m.put("route", r.name());
                    m.put("match", r.config().match());
                    m.put("cluster", r.config().cluster());
                    m.put("direct_response", r.config().directResponse() != null);
                    m.put("redirect", r.config().redirect() != null);
                    out.add(m);
                }
            }
            return json(HttpResponseStatus.OK, Map.of("routes", out));
        }
        if (path.equals("/listeners")) {
            List<Object> out = new ArrayList<>();
            for (Listener l : gatehouse.listeners()) {
                out.add(Map.of("listener", l.name(), "address", Addresses.format(l.boundAddress()),
                        "connections", l.connectionCount(), "requests", l.exchangeCount(), "rejected", l.rejectedCount()));
            }
            return json(HttpResponseStatus.OK, Map.of("listeners", out));
        }
        return json(HttpResponseStatus.NOT_FOUND, Map.of("error", "no such admin path: " + path,
                "paths", List.of("/live", "/ready", "/listeners", "/routes", "/clusters", "/clusters/{name}")));
    }

    private static Map<String, Object> describe(Cluster c) {
        long now = c.ticker().nanoTime();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cluster", c.name());
        m.put("policy", c.config().loadBalancer().policy());
        m.put("available_endpoints", c.availableCount());
        m.put("requests_in_flight", c.inFlightRequests());
        m.put("connections", c.openConnections());
        m.put("pending_connections", c.pendingConnections());
        m.put("overflows", c.overflowCount());
        m.put("retry_budget_exhausted", c.retryBudgetExhaustedCount());
        List<Object> eps = new ArrayList<>();
        for (Endpoint e : c.endpoints()) {
            Map<String, Object> em = new LinkedHashMap<>();
            em.put("address", e.address());
            em.put("weight", e.weight());
            em.put("backup", e.backup());
            em.put("healthy", e.activeHealthy());
            em.put("ejected", e.ejected(now));
            em.put("ejections", e.ejections());
            em.put("available", e.available(now));
            em.put("in_flight", e.inFlight());
            em.put("connections", e.connections());
            em.put("latency_ewma_ms", Math.round(e.ewmaNanos() / 1e4) / 100.0);
            if (c.healthChecker() != null) {
                var s = c.healthChecker().status(e);
                if (s != null && s.lastFailureReason() != null) em.put("last_health_failure", s.lastFailureReason());
            }
            eps.add(em);
        }
        m.put("endpoints", eps);
        return m;
    }

    private boolean authorized(FullHttpRequest request) {
        String token = config.token();
        if (token == null || token.isBlank()) return true;
        String auth = request.headers().get(HttpHeaderNames.AUTHORIZATION, "");
        byte[] expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(expected, auth.getBytes(StandardCharsets.UTF_8)); // constant time
    }

    private static FullHttpResponse json(HttpResponseStatus status, Object body) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (Exception e) {
            bytes = ("{\"error\":\"" + e.getMessage() + "\"}").getBytes(StandardCharsets.UTF_8);
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        return r;
    }
}
