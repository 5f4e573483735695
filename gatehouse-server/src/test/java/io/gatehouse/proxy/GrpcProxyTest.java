package io.gatehouse.proxy;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.RawResponse;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * gRPC through Gatehouse to a real grpc-java server on h2c ({@code protocol: h2c}): from a grpc-java client (h2c
 * prior knowledge to Gatehouse) and from an HTTP/1.1 client speaking gRPC's framing by hand.
 */
class GrpcProxyTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private final List<AutoCloseable> closeables = new ArrayList<>();

    /** Strings as messages: no protoc needed. */
    static final MethodDescriptor.Marshaller<String> STRING = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    static MethodDescriptor<String, String> method(String name, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<String, String>newBuilder().setType(type)
                .setFullMethodName("test.Echo/" + name).setRequestMarshaller(STRING).setResponseMarshaller(STRING).build();
    }

    static final MethodDescriptor<String, String> UNARY = method("Unary", MethodDescriptor.MethodType.UNARY);
    static final MethodDescriptor<String, String> SERVER_STREAM = method("ServerStream", MethodDescriptor.MethodType.SERVER_STREAMING);
    static final MethodDescriptor<String, String> CLIENT_STREAM = method("ClientStream", MethodDescriptor.MethodType.CLIENT_STREAMING);
    static final MethodDescriptor<String, String> BIDI = method("Bidi", MethodDescriptor.MethodType.BIDI_STREAMING);
    static final MethodDescriptor<String, String> MISSING = method("Missing", MethodDescriptor.MethodType.UNARY);

    private static ServerServiceDefinition service() {
        return ServerServiceDefinition.builder("test.Echo")
                .addMethod(UNARY, ServerCalls.asyncUnaryCall((String req, StreamObserver<String> out) -> {
                    if (req.startsWith("missing")) {
                        out.onError(Status.NOT_FOUND.withDescription("no such thing: " + req).asRuntimeException());
                        return;
                    }
                    out.onNext("echo:" + req);
                    out.onCompleted();
                }))
                .addMethod(SERVER_STREAM, ServerCalls.asyncServerStreamingCall((String req, StreamObserver<String> out) -> {
                    for (int i = 1; i <= 3; i++) out.onNext(req + "-" + i);
                    out.onCompleted();
                }))
                .addMethod(CLIENT_STREAM, ServerCalls.asyncClientStreamingCall((StreamObserver<String> out) -> new StreamObserver<>() {
                    final StringBuilder all = new StringBuilder();

                    @Override
                    public void onNext(String value) {
                        all.append(value).append('+');
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        out.onNext(all.toString());
                        out.onCompleted();
                    }
                }))
                .addMethod(BIDI, ServerCalls.asyncBidiStreamingCall((StreamObserver<String> out) -> new StreamObserver<>() {
                    @Override
                    public void onNext(String value) {
                        out.onNext("re:" + value);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        out.onCompleted();
                    }
                }))
                .build();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) closeables.get(i).close();
    }

    private Server grpcServer() throws IOException {
        Server s = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create()).addService(service()).build().start();
        closeables.add(() -> s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        return s;
    }

    private GatehouseFixture gatehouse(String endpoint, String routeExtra) {
        GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    http2: { h2c: true }
                    routes:
                      - name: grpc
                        cluster: grpc
                        %s
                clusters:
                  - name: grpc
                    protocol: h2c
                    endpoints: ["%s"]
                """.formatted(routeExtra, endpoint));
        closeables.add(g);
        return g;
    }

    private ManagedChannel channelTo(GatehouseFixture g) {
        ManagedChannel ch = Grpc.newChannelBuilderForAddress("127.0.0.1", g.address().getPort(),
                InsecureChannelCredentials.create()).build();
        closeables.add(() -> ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        return ch;
    }

    // ---- grpc-java client → Gatehouse (h2c) → grpc-java server (h2c) ----

    @Test
    void allFourCallTypesPassThroughGatehouse() throws Exception {
        Server s = grpcServer();
        ManagedChannel ch = channelTo(gatehouse("127.0.0.1:" + s.getPort(), ""));
        CallOptions opts = CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS);

        assertThat(ClientCalls.blockingUnaryCall(ch, UNARY, opts, "hello")).isEqualTo("echo:hello");

        List<String> streamed = new ArrayList<>();
        Iterator<String> it = ClientCalls.blockingServerStreamingCall(ch, SERVER_STREAM, opts, "n");
        it.forEachRemaining(streamed::add);
        assertThat(streamed).containsExactly("n-1", "n-2", "n-3");

        Collector collected = new Collector();
        StreamObserver<String> up = ClientCalls.asyncClientStreamingCall(ch.newCall(CLIENT_STREAM, opts), collected);
        up.onNext("a");
        up.onNext("b");
        up.onNext("c");
        up.onCompleted();
        assertThat(collected.await()).containsExactly("a+b+c+");

        Collector bidi = new Collector();
        StreamObserver<String> both = ClientCalls.asyncBidiStreamingCall(ch.newCall(BIDI, opts), bidi);
        both.onNext("x");
        both.onNext("y");
        both.onCompleted();
        assertThat(bidi.await()).containsExactly("re:x", "re:y");
    }

    @Test
    void statusAndMessageFromTheServerReachTheClient() throws Exception {
        Server s = grpcServer();
        ManagedChannel ch = channelTo(gatehouse("127.0.0.1:" + s.getPort(), ""));
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(ch, UNARY, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "missing-42"))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).isEqualTo("no such thing: missing-42");
                });
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(ch, MISSING, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "x"))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
    }

    @Test
    void endpointDownIsUnavailableForAGrpcClient() throws Exception {
        int port;
        try (java.net.ServerSocket closed = new java.net.ServerSocket(0)) {
            port = closed.getLocalPort();
        }
        ManagedChannel ch = channelTo(gatehouse("127.0.0.1:" + port, ""));
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(ch, UNARY, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "x"))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription()).isEqualTo("connect_refused");
                });
    }

    @Test
    void routeTimeoutIsDeadlineExceededForAGrpcClient() throws Exception {
        // an HTTP/2 endpoint that never answers: Gatehouse's route timeout ends the call, long before the client's
        Http2Backend silent = Http2Backend.h2c(100);
        closeables.add(silent);
        ManagedChannel ch = channelTo(gatehouse(silent.address(), "timeouts: { total: 300ms }"));
        MethodDescriptor<String, String> hold = MethodDescriptor.<String, String>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("hold/Forever")
                .setRequestMarshaller(STRING).setResponseMarshaller(STRING).build();
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(ch, hold, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), "x"))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
                    assertThat(e.getStatus().getDescription()).isEqualTo("route_timeout");
                });
    }

    @Test
    void grpcTimeoutHeaderShortensTheRouteTimeout() throws Exception {
        // the endpoint ignores grpc-timeout and never answers: only Gatehouse honouring it ends the call in time
        Http2Backend silent = Http2Backend.h2c(100);
        closeables.add(silent);
        GatehouseFixture g = gatehouse(silent.address(), "timeouts: { total: 30s }");
        try (RawClient c = g.raw()) {
            long start = System.nanoTime();
            c.send(grpcRequest("/hold/Forever", "grpc-timeout: 300m\r\n", frame("x")));
            RawResponse r = c.readResponse(WAIT);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
            assertThat(r.status()).isEqualTo(200);
            assertThat(trailer(r, "grpc-status")).isEqualTo("4");
            assertThat(trailer(r, "grpc-message")).isEqualTo("route_timeout");
        }
    }

    static final MethodDescriptor<String, String> FOREVER = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.SERVER_STREAMING).setFullMethodName("test.Forever/Stream")
            .setRequestMarshaller(STRING).setResponseMarshaller(STRING).build();

    /** A server stream that sends a message every 50 ms until the call is cancelled, which it counts down. */
    private Server foreverServer(java.util.concurrent.CountDownLatch cancelled) throws IOException {
        java.util.concurrent.ScheduledExecutorService ticks = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        closeables.add(ticks::shutdownNow);
        ServerServiceDefinition forever = ServerServiceDefinition.builder("test.Forever")
                .addMethod(FOREVER, ServerCalls.asyncServerStreamingCall((String req, StreamObserver<String> out) -> {
                    var call = (io.grpc.stub.ServerCallStreamObserver<String>) out;
                    java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
                    var task = ticks.scheduleAtFixedRate(() -> {
                        if (!call.isCancelled()) call.onNext(req + "-" + n.incrementAndGet());
                    }, 0, 50, TimeUnit.MILLISECONDS);
                    call.setOnCancelHandler(() -> {
                        task.cancel(false);
                        cancelled.countDown();
                    });
                }))
                .build();
        Server s = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
                .addService(service()).addService(forever).build().start();
        closeables.add(() -> s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        return s;
    }

    /**
     * A 3 s route timeout for test.Forever only; the other calls go by a route without one. The tests need the
     * stream's first message to arrive before it (its timer runs on real time): with 600 ms, a machine that stalled
     * that long gave no message at all.
     */
    private static final String FOREVER_DEADLINE = """
            match: { path_prefix: /test.Forever }
                    timeouts: { total: 3s }
                  - name: rest
                    cluster: grpc""";

    @Test
    void aServerStreamPastTheRouteDeadlineEndsWithDeadlineExceededAndTheConnectionGoesOn() throws Exception {
        java.util.concurrent.CountDownLatch cancelled = new java.util.concurrent.CountDownLatch(1);
        Server s = foreverServer(cancelled);
        GatehouseFixture g = gatehouse("127.0.0.1:" + s.getPort(), FOREVER_DEADLINE);
        ManagedChannel ch = channelTo(g);
        CallOptions opts = CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS);

        // a bidi call open on the same connection before, during and after the deadline of the other
        java.util.concurrent.BlockingQueue<String> bidiIn = new java.util.concurrent.LinkedBlockingQueue<>();
        Collector bidiEnd = new Collector() {
            @Override
            public void onNext(String value) {
                bidiIn.add(value);
                super.onNext(value);
            }
        };
        StreamObserver<String> bidi = ClientCalls.asyncBidiStreamingCall(ch.newCall(BIDI, opts), bidiEnd);
        bidi.onNext("before");
        assertThat(bidiIn.poll(10, TimeUnit.SECONDS)).isEqualTo("re:before");

        List<String> received = new ArrayList<>();
        Iterator<String> it = ClientCalls.blockingServerStreamingCall(ch, FOREVER, opts, "m");
        assertThatThrownBy(() -> it.forEachRemaining(received::add))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    // Gatehouse's deadline (the client's own is 20 s away), told in trailers, not a reset (CANCELLED)
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
                    assertThat(e.getStatus().getDescription()).isEqualTo("route_timeout");
                });
        assertThat(received).isNotEmpty().startsWith("m-1");
        // the upstream stream was reset: the server learned the call is over
        assertThat(cancelled.await(10, TimeUnit.SECONDS)).isTrue();

        // the other call on the connection goes on, and new calls work on it too
        bidi.onNext("after");
        assertThat(bidiIn.poll(10, TimeUnit.SECONDS)).isEqualTo("re:after");
        bidi.onCompleted();
        assertThat(bidiEnd.await()).containsExactly("re:before", "re:after");
        assertThat(ClientCalls.blockingUnaryCall(ch, UNARY, opts, "still")).isEqualTo("echo:still");
        assertThat(g.gatehouse().listeners().get(0).connectionCount()).isEqualTo(1);
    }

    @Test
    void http1GrpcClientTakingTrailersGetsDeadlineExceededAfterTheResponseStarted() throws Exception {
        Server s = foreverServer(new java.util.concurrent.CountDownLatch(1));
        GatehouseFixture g = gatehouse("127.0.0.1:" + s.getPort(), FOREVER_DEADLINE);
        try (RawClient c = g.raw()) {
            c.send(grpcRequest("/test.Forever/Stream", "", frame("h")));
            RawResponse r = c.readResponse(WAIT);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("transfer-encoding")).isEqualTo("chunked");
            assertThat(messages(r.body())).isNotEmpty().startsWith("h-1");
            assertThat(trailer(r, "grpc-status")).isEqualTo("4");
            assertThat(trailer(r, "grpc-message")).isEqualTo("route_timeout");

            // the response ended properly: the connection serves the next call
            c.send(grpcRequest("/test.Echo/Unary", "", frame("next")));
            RawResponse next = c.readResponse(WAIT);
            assertThat(messages(next.body())).containsExactly("echo:next");
            assertThat(trailer(next, "grpc-status")).isEqualTo("0");
        }
    }

    // ---- HTTP/1.1 client speaking gRPC framing → Gatehouse → grpc-java server (h2c) ----

    @Test
    void http1ClientReachesAGrpcServerWithTrailersPreserved() throws Exception {
        Server s = grpcServer();
        GatehouseFixture g = gatehouse("127.0.0.1:" + s.getPort(), "");
        try (RawClient c = g.raw()) {
            c.send(grpcRequest("/test.Echo/Unary", "", frame("hi")));
            RawResponse r = c.readResponse(WAIT);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("content-type")).isEqualTo("application/grpc");
            assertThat(messages(r.body())).containsExactly("echo:hi");
            assertThat(trailer(r, "grpc-status")).isEqualTo("0");

            byte[] three = concat(frame("a"), frame("b"), frame("c"));
            c.send(grpcRequest("/test.Echo/ClientStream", "", three));
            RawResponse cs = c.readResponse(WAIT);
            assertThat(messages(cs.body())).containsExactly("a+b+c+");
            assertThat(trailer(cs, "grpc-status")).isEqualTo("0");

            c.send(grpcRequest("/test.Echo/Unary", "", frame("missing-7")));
            RawResponse nf = c.readResponse(WAIT);
            assertThat(nf.status()).isEqualTo(200);
            assertThat(trailer(nf, "grpc-status")).isEqualTo("5");
            assertThat(trailer(nf, "grpc-message")).isEqualTo("no such thing: missing-7");
        }
    }

    @Test
    void http1GrpcRequestToADownEndpointGetsUnavailable() throws Exception {
        int port;
        try (java.net.ServerSocket closed = new java.net.ServerSocket(0)) {
            port = closed.getLocalPort();
        }
        GatehouseFixture g = gatehouse("127.0.0.1:" + port, "");
        try (RawClient c = g.raw()) {
            c.send(grpcRequest("/test.Echo/Unary", "", frame("x")));
            RawResponse r = c.readResponse(WAIT);
            assertThat(r.status()).isEqualTo(200);
            assertThat(trailer(r, "grpc-status")).isEqualTo("14");
            assertThat(trailer(r, "grpc-message")).isEqualTo("connect_refused");
        }
    }

    private static String trailer(RawResponse r, String name) {
        for (RawResponse.Header h : r.trailers()) if (h.name().equalsIgnoreCase(name)) return h.value();
        return r.header(name); // a trailers-only answer may carry it in the head
    }

    private static byte[] grpcRequest(String path, String extraHeaders, byte[] body) {
        String head = "POST " + path + " HTTP/1.1\r\nHost: grpc.example\r\nContent-Type: application/grpc\r\nTE: trailers\r\n"
                + extraHeaders + "Content-Length: " + body.length + "\r\n\r\n";
        return concat(head.getBytes(StandardCharsets.US_ASCII), body);
    }

    /** One length-prefixed gRPC message, uncompressed. */
    static byte[] frame(String message) {
        byte[] m = message.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(5 + m.length).put((byte) 0).putInt(m.length).put(m).array();
    }

    static List<String> messages(byte[] body) {
        List<String> out = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(body);
        while (b.remaining() >= 5) {
            b.get();
            byte[] m = new byte[b.getInt()];
            b.get(m);
            out.add(new String(m, StandardCharsets.UTF_8));
        }
        return out;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    /** Collects a stream's messages and waits for its end. */
    private static class Collector implements StreamObserver<String> {
        private final List<String> values = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final java.util.concurrent.CompletableFuture<List<String>> done = new java.util.concurrent.CompletableFuture<>();

        @Override
        public void onNext(String value) {
            values.add(value);
        }

        @Override
        public void onError(Throwable t) {
            done.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
            done.complete(values);
        }

        List<String> await() throws Exception {
            return done.get(10, TimeUnit.SECONDS);
        }
    }
}
