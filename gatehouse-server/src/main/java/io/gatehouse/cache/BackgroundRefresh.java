package io.gatehouse.cache;

import io.gatehouse.cluster.Cluster;
import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.config.RouteConfig;
import io.gatehouse.filter.FilterContext;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.transport.Transport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Fetches a stale-while-revalidate response again while the client that found it stale has already been served: one
 * GET (conditional when the stored response has validators) on a connection of its own to one of the route's
 * endpoints, on the triggering exchange's event loop, bounded by {@link #TIMEOUT}. A 304 updates the stored response, a
 * storable answer replaces it, anything else leaves it to expire.
 *
 * <p>A small client of its own, because Gatehouse has no upstream client for internal callers yet (one is being built
 * for the cluster package): it speaks plain HTTP/1.1 only, and a route whose cluster uses TLS upstream gets no
 * background refresh ({@link #forRoute} returns null; stale-while-revalidate then serves stale within its window and
 * the first request after it validates).
 */
interface BackgroundRefresh {
    Duration TIMEOUT = Duration.ofSeconds(10);

    /** Refreshes {@code stale} for {@code primary}; ends {@code flight} (removing it) with the new stored response, or null. */
    void refresh(CacheFilter filter, HttpExchange trigger, String primary, CachedResponse stale, Flight flight);

    static BackgroundRefresh forRoute(FilterContext context) {
        if (context.config() == null || context.clusters() == null) return null;
        String clusterName = null;
        for (ListenerConfig l : context.config().listeners()) {
            if (!l.name().equals(context.listener())) continue;
            for (RouteConfig r : l.routes()) if (r.name().equals(context.route())) clusterName = r.cluster();
        }
        Cluster cluster = clusterName == null ? null : context.clusters().get(clusterName);
        if (cluster == null || cluster.config().tls() != null) return null;
        return new Plain(cluster, Transport.select(context.config().server().transport()));
    }

    /** Over plain HTTP/1.1 to an endpoint of the route's cluster. */
    final class Plain implements BackgroundRefresh {
        private static final List<String> NOT_SENT = List.of("if-none-match", "if-modified-since", "if-match",
                "if-unmodified-since", "range", "if-range", "cache-control", "pragma", "content-length", "expect");
        private final Cluster cluster;
        private final Transport transport;

        Plain(Cluster cluster, Transport transport) {
            this.cluster = cluster;
            this.transport = transport;
        }

        @Override
        public void refresh(CacheFilter filter, HttpExchange trigger, String primary, CachedResponse stale, Flight flight) {
            List<Endpoint> endpoints = cluster.endpoints().stream().filter(e -> !e.backup()).toList();
            if (endpoints.isEmpty()) {
                filter.endFlight(primary, flight, null);
                return;
            }
            Endpoint endpoint = endpoints.get(java.util.concurrent.ThreadLocalRandom.current().nextInt(endpoints.size()));
            HttpHeaders headers = new DefaultHttpHeaders();
            for (var e : trigger.request().headers()) {
                String name = e.getKey().toLowerCase(Locale.ROOT);
                if (!HopByHop.isHopByHop(name, trigger.request().headers()) && !NOT_SENT.contains(name)) headers.add(name, e.getValue());
            }
            if (stale.etag() != null) headers.set(HttpHeaderNames.IF_NONE_MATCH, stale.etag());
            if (stale.lastModified() != null) headers.set(HttpHeaderNames.IF_MODIFIED_SINCE, stale.lastModified());
            if (!headers.contains(HttpHeaderNames.HOST)) headers.set(HttpHeaderNames.HOST, trigger.host());
            headers.set(HttpHeaderNames.CONNECTION, "close");
            String target = trigger.path() + (trigger.query() == null ? "" : "?" + trigger.query());
            HttpHeaders requestHeaders = headers.copy();
            String url = CacheKeys.url(trigger, filter.config.key());
            long requestTime = filter.clock.currentTimeMillis();
            int max = (int) Math.min(Integer.MAX_VALUE, filter.config.maxObjectSize());
            transport.clientBootstrap(trigger.eventLoop(), TIMEOUT, true)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(max),
                                    new SimpleChannelInboundHandler<FullHttpResponse>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                                            long now = filter.clock.currentTimeMillis();
                                            CachedResponse result = null;
                                            int code = r.status().code();
                                            if (code == 304) {
                                                result = stale.updatedBy(r.headers(), requestTime, now, filter.policy);
                                            } else if (CacheStrategy.storable(HttpMethod.GET, requestHeaders, code, r.headers(), filter.policy).store()) {
                                                var s = CacheStrategy.storable(HttpMethod.GET, requestHeaders, code, r.headers(), filter.policy);
                                                HttpHeaders stored = HopByHop.storable(r.headers(), s.stripFields());
                                                byte[] body = new byte[r.content().readableBytes()];
                                                r.content().getBytes(r.content().readerIndex(), body);
                                                stored.set(HttpHeaderNames.CONTENT_LENGTH, body.length);
                                                List<String> vary = CacheKeys.varyNames(r.headers());
                                                result = new CachedResponse(code, stored, body, requestTime, now, url, vary,
                                                        CacheKeys.variant(vary, requestHeaders), Fetch.tags(r.headers()), filter.policy);
                                            }
                                            if (result != null) filter.store().put(primary, result);
                                            filter.endFlight(primary, flight, result);
                                            ctx.close();
                                        }

                                        @Override
                                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                            ctx.close();
                                        }

                                        @Override
                                        public void channelInactive(ChannelHandlerContext ctx) {
                                            filter.endFlight(primary, flight, null);
                                        }
                                    });
                        }
                    })
                    .connect(endpoint.socketAddress())
                    .addListener((io.netty.channel.ChannelFutureListener) f -> {
                        if (!f.isSuccess()) {
                            filter.endFlight(primary, flight, null);
                            return;
                        }
                        f.channel().read();
                        f.channel().writeAndFlush(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, target,
                                io.netty.buffer.Unpooled.EMPTY_BUFFER, headers, new DefaultHttpHeaders()));
                        // every network call has a bound: a silent origin is dropped, the stale copy stays until it expires
                        f.channel().eventLoop().schedule(() -> { f.channel().close(); }, TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
                    });
        }
    }
}
