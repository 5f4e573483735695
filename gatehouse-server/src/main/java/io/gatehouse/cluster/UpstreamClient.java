package io.gatehouse.cluster;

import io.gatehouse.cluster.loadbalancer.HashKey;
import io.gatehouse.config.RetryConfig;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;

/**
 * The one way requests reach a cluster's endpoints, owned by the {@link Cluster}: the proxy's exchanges, health
 * probes and internal callers (JWKS fetches, and what comes: the cache's revalidation, aggregation) all go through
 * it, so they share the cluster's load balancer, pools, TLS, timeouts, retry budget, outlier detection and stats.
 *
 * <p>Two ways in: {@link #call} streams (a request body from a source, the response to a {@link UpstreamCall.Receiver}
 * with backpressure), for the proxy; {@link #send} takes a whole request and completes with a whole response of
 * bounded size, for everyone else.
 */
public final class UpstreamClient {
    private final Cluster cluster;

    UpstreamClient(Cluster cluster) {
        this.cluster = cluster;
    }

    public Cluster cluster() {
        return cluster;
    }

    /**
     * A streaming call on {@code loop} (the caller's event loop: the connection is leased from that loop's pool).
     * Nothing happens until {@link UpstreamCall#start}.
     *
     * @param perTry       the wait for a response head once the request went out; null: the cluster's
     *                     {@code timeouts.response_header}
     * @param preserveHost keep the request's Host instead of the endpoint's address
     * @param upgrade      the request asks for a protocol switch the receiver would tunnel
     * @param hash         {@link Cluster#hash} of the request, for ring_hash and maglev
     * @param startNanos   when the request began, for the cluster's latency stats
     */
    public UpstreamCall call(EventLoop loop, HttpRequest request, UpstreamCall.RequestBody body,
                             UpstreamCall.Receiver receiver, RetryConfig retry, Duration perTry, boolean preserveHost,
                             boolean upgrade, long hash, long startNanos) {
        return new UpstreamCall(cluster, loop, request, body, receiver, retry, perTry, preserveHost, upgrade, hash,
                null, false, startNanos);
    }

    /**
     * A whole request for {@link #send}.
     *
     * @param uri              path and query ({@code /jwks?x=1})
     * @param headers          fields to send; a Host among them is kept, else Host is the endpoint's address
     * @param body             the body, or null
     * @param maxResponseBytes a longer response body fails the call ({@code response_too_large})
     * @param timeout          bounds the whole call, retries included; null: the cluster's timeouts alone
     * @param retry            retries; connect failures go to another endpoint whatever it says
     */
    public record Request(HttpMethod method, String uri, Map<String, String> headers, byte[] body, int maxResponseBytes,
                          Duration timeout, RetryConfig retry) {
        /** Bound on a response body unless a request says otherwise. */
        public static final int DEFAULT_MAX_RESPONSE_BYTES = 1 << 20;

        public Request {
            headers = headers == null ? Map.of() : Map.copyOf(headers);
            if (maxResponseBytes <= 0) throw new IllegalArgumentException("maxResponseBytes: must be > 0");
            retry = retry == null ? RetryConfig.DEFAULT : retry;
        }

        /** A GET of {@code uri}, with the default bounds. */
        public static Request get(String uri) {
            return new Request(HttpMethod.GET, uri, Map.of(), null, DEFAULT_MAX_RESPONSE_BYTES, null, null);
        }

        public Request withHeaders(Map<String, String> more) {
            java.util.Map<String, String> all = new java.util.LinkedHashMap<>(headers);
            all.putAll(more);
            return new Request(method, uri, all, body, maxResponseBytes, timeout, retry);
        }

        public Request withTimeout(Duration t) {
            return new Request(method, uri, headers, body, maxResponseBytes, t, retry);
        }

        public Request withMaxResponseBytes(int max) {
            return new Request(method, uri, headers, body, max, timeout, retry);
        }
    }

    /** A whole response of {@link #send}: its status, fields, body and the endpoint that answered. */
    public record Response(int status, HttpHeaders headers, byte[] body, String endpoint) {
        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /**
     * A call that got no response: {@code status} is what a proxy would have answered (502, 503, 504) and
     * {@code reason} the short reason the access log uses ({@code connect_refused}, {@code response_timeout},
     * {@code no_healthy_endpoint}, {@code response_too_large}, …).
     */
    public static final class Failure extends RuntimeException {
        private final int status;
        private final String reason;

        public Failure(int status, String reason) {
            super(status + " " + reason, null, false, false);
            this.status = status;
            this.reason = reason;
        }

        public int status() { return status; }
        public String reason() { return reason; }
    }

    /**
     * Sends {@code request} through the cluster and completes with the whole response, on one of the cluster's
     * event loops (never blocks; callable from any thread). Fails with {@link Failure}.
     */
    public CompletableFuture<Response> send(Request request) {
        Aggregation a = new Aggregation(request);
        EventLoop loop = cluster.group().next();
        try {
            loop.execute(() -> a.start(this, loop, null));
        } catch (RejectedExecutionException e) {
            a.future.completeExceptionally(new Failure(503, "shutting_down"));
        }
        return a.future;
    }

    /** A whole request up, a whole (bounded) response down: the {@link #send} side of a call. */
    private static final class Aggregation implements UpstreamCall.RequestBody, UpstreamCall.Receiver {
        final CompletableFuture<Response> future = new CompletableFuture<>();
        private final Request request;
        private HttpRequest head;
        private UpstreamCall call;
        private boolean delivered;
        private int status;
        private HttpHeaders responseHeaders;
        private String endpoint;
        private ByteArrayOutputStream body;

        Aggregation(Request request) {
            this.request = request;
        }

        void start(UpstreamClient client, EventLoop loop, Endpoint pinned) {
            HttpHeaders h = new DefaultHttpHeaders();
            request.headers().forEach(h::set);
            boolean preserveHost = h.contains(HttpHeaderNames.HOST);
            if (request.body() != null) h.set(HttpHeaderNames.CONTENT_LENGTH, request.body().length);
            head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, request.method(), request.uri(), h);
            Cluster cluster = client.cluster;
            call = new UpstreamCall(cluster, loop, head, this, this, request.retry(), null, preserveHost, false,
                    HashKey.NO_KEY, pinned, false, cluster.ticker().nanoTime());
            if (!call.admit()) {
                future.completeExceptionally(new Failure(503, "cluster_max_requests"));
                return;
            }
            call.start(request.timeout() == null ? -1 : request.timeout().toNanos());
        }

        // request body: held whole

        @Override
        public void start(UpstreamCall c) {
            delivered = true;
            byte[] b = request.body();
            c.sendBody(b == null || b.length == 0 ? LastHttpContent.EMPTY_LAST_CONTENT
                    : new DefaultLastHttpContent(Unpooled.wrappedBuffer(b)));
        }

        @Override
        public boolean complete() { return delivered; }

        @Override
        public void requestMore() {}

        @Override
        public boolean held() { return true; }

        // response: gathered up to the bound

        @Override
        public void onAttempt(Endpoint e) {}

        @Override
        public void onInterim(HttpObject message) {
            ReferenceCountUtil.release(message);
        }

        @Override
        public boolean onHead(HttpResponse response, Endpoint e) {
            status = response.status().code();
            responseHeaders = response.headers();
            endpoint = e.address();
            body = new ByteArrayOutputStream();
            return UpstreamCall.reusable(head, response);
        }

        @Override
        public void onResponseBody(HttpContent content) {
            try {
                int n = content.content().readableBytes();
                if (body.size() + n > request.maxResponseBytes()) {
                    future.completeExceptionally(new Failure(502, "response_too_large"));
                    call.cancel("response_too_large");
                    return;
                }
                content.content().getBytes(content.content().readerIndex(), body, n);
            } catch (java.io.IOException impossible) {
                throw new java.io.UncheckedIOException(impossible);
            } finally {
                content.release();
            }
        }

        @Override
        public boolean onReadComplete() { return true; }

        @Override
        public void onResponseEnd() {
            future.complete(new Response(status, responseHeaders, body.toByteArray(), endpoint));
        }

        @Override
        public void onTunnel(Channel channel) {
            channel.close(); // never asked for an upgrade
        }

        @Override
        public void onFailed(HttpResponseStatus failure, String reason) {
            status = failure.code();
            future.completeExceptionally(new Failure(failure.code(), reason));
        }

        @Override
        public void onAttemptEnd(Endpoint e, long nanos, int retries) {}

        @Override
        public int onFinish(String reason, Endpoint lastEndpoint, long attemptNanos) {
            if (reason != null) future.completeExceptionally(new Failure(status >= 500 ? status : 502, reason));
            return status == 0 ? 502 : status;
        }
    }

    /** How a health probe ended: the response status, or 0 and the short reason it got none. */
    @FunctionalInterface
    public interface ProbeCallback {
        void done(int status, String failure);
    }

    /**
     * A health probe of {@code endpoint}, on {@code loop} (the caller's, which this must be called on): sends
     * {@code request} as it is (its Host kept) on a connection of its own (an HTTP/2 cluster: a stream), and reports
     * the status as soon as the head is in (the body is not read, the connection closed), or the failure reason
     * ({@code connect_refused}, {@code tls_…}, {@code endpoint_reset}, …). Made like the traffic's requests (same
     * bootstrap, TLS, codecs, connect and response-header timeouts) but not counted as traffic: no request limits,
     * stats or outlier reports. Returns what cancels the probe.
     */
    public Runnable probe(Endpoint endpoint, EventLoop loop, FullHttpRequest request, ProbeCallback callback) {
        Probe p = new Probe(callback);
        p.call = new UpstreamCall(cluster, loop, request, p, p, RetryConfig.DEFAULT, null, true, false, HashKey.NO_KEY,
                endpoint, true, cluster.ticker().nanoTime());
        p.call.admit();
        p.call.start(-1);
        return p;
    }

    /**
     * A TCP health probe: opens a connection of its own to {@code endpoint} (with the cluster's TLS: the handshake,
     * certificate and name checks included), reports status 0 with a null failure when it is up, and closes it.
     * On {@code loop}, which this must be called on. Returns what cancels the probe.
     */
    public Runnable connect(Endpoint endpoint, EventLoop loop, ProbeCallback callback) {
        Connect c = new Connect(callback);
        cluster.pool(loop).acquireForProbe(endpoint, c, false);
        return c;
    }

    /** One HTTP probe: a body-less request up, the response status down. */
    private static final class Probe implements UpstreamCall.RequestBody, UpstreamCall.Receiver, Runnable {
        private final ProbeCallback callback;
        UpstreamCall call;
        private boolean delivered;
        private boolean reported;

        Probe(ProbeCallback callback) {
            this.callback = callback;
        }

        private void report(int status, String failure) {
            if (reported) return;
            reported = true;
            callback.done(status, failure);
        }

        @Override
        public void run() {
            call.cancel("probe_cancelled");
        }

        @Override
        public void start(UpstreamCall c) {
            delivered = true;
            c.sendBody(LastHttpContent.EMPTY_LAST_CONTENT);
        }

        @Override public boolean complete() { return delivered; }
        @Override public void requestMore() {}
        @Override public boolean held() { return true; }
        @Override public void onAttempt(Endpoint endpoint) {}

        @Override
        public void onInterim(HttpObject message) {
            ReferenceCountUtil.release(message);
        }

        @Override
        public boolean onHead(HttpResponse head, Endpoint endpoint) {
            report(head.status().code(), null);
            call.cancel("probe_done"); // the status is all a probe wants: the body is not read
            return false;
        }

        @Override
        public void onResponseBody(HttpContent content) {
            content.release();
        }

        @Override public boolean onReadComplete() { return true; }
        @Override public void onResponseEnd() {}

        @Override
        public void onTunnel(Channel channel) {
            channel.close();
        }

        @Override
        public void onFailed(HttpResponseStatus status, String reason) {
            report(0, reason);
        }

        @Override public void onAttemptEnd(Endpoint endpoint, long nanos, int retries) {}

        @Override
        public int onFinish(String reason, Endpoint lastEndpoint, long attemptNanos) {
            if (reason != null) report(0, reason);
            return 0;
        }
    }

    /** One TCP probe: a connection opened (and its TLS handshake done), then closed. */
    private static final class Connect implements UpstreamConnection.Owner, Runnable {
        private final ProbeCallback callback;
        private boolean reported;

        Connect(ProbeCallback callback) {
            this.callback = callback;
        }

        private void report(String failure) {
            if (reported) return;
            reported = true;
            callback.done(0, failure);
        }

        @Override
        public void run() {
            reported = true; // a connection that still comes is closed on arrival
        }

        @Override
        public void onConnected(UpstreamConnection connection, boolean reused) {
            connection.close();
            report(null);
        }

        @Override
        public void onConnectFailed(String reason) {
            report(reason);
        }

        @Override public void onResponse(UpstreamConnection connection, HttpObject message) { ReferenceCountUtil.release(message); }
        @Override public void onResponseReadComplete(UpstreamConnection connection) {}
        @Override public void onUpstreamWritable(UpstreamConnection connection) {}
        @Override public void onUpstreamClosed(UpstreamConnection connection) {}
        @Override public long nextDeadlineNanos() { return Long.MAX_VALUE; }
        @Override public long deadlineCheckNanos() { return Long.MAX_VALUE; }
        @Override public void onDeadline(UpstreamConnection connection) {}
    }
}
