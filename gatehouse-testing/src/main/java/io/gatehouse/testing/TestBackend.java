package io.gatehouse.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real HTTP/1.1 origin on {@code 127.0.0.1} and an ephemeral port, scriptable and recording, for proxy tests (the
 * OkHttp MockWebServer / Armeria ServerExtension / Envoy FakeUpstream idea on Netty).
 *
 * <pre>{@code
 * @RegisterExtension TestBackend backend = new TestBackend().name("a");   // started before, closed after each test
 *
 * backend.enqueue(TestResponse.status(503), TestResponse.ok("fine").delayHeaders(Duration.ofSeconds(2)));
 * ... send requests through the proxy to backend.address() ...
 * RecordedRequest first = backend.takeRequest(Duration.ofSeconds(5));
 * assertThat(first.header("X-Forwarded-For")).isEqualTo("127.0.0.1");
 * }</pre>
 *
 * <p>Outside JUnit: {@code try (TestBackend backend = TestBackend.started("a")) { … }}. As a {@code static}
 * extension field it starts once per class, and {@linkplain #reset() resets} its script and recordings before each
 * test.
 *
 * <p><b>How requests are answered</b>, in this order:
 * <ol>
 *   <li>{@code GET /health} is answered {@code 200 ok}, or {@code 503 unhealthy} after {@link #healthy(boolean)
 *       healthy(false)}; health probes are counted in {@link #healthChecks()} and are <em>not</em> recorded, so a
 *       proxy's background health checker neither pollutes {@link #requests()} nor consumes scripted responses;</li>
 *   <li>a WebSocket upgrade of {@code /ws} becomes a WebSocket echo (text and binary frames are sent back, the close
 *       handshake is honoured); the upgrade request is recorded;</li>
 *   <li>in {@link #echo()} mode, the request body is streamed back as a chunked {@code 200} response;</li>
 *   <li>otherwise the next {@linkplain #enqueue enqueued} response, else the {@linkplain #respond responder}'s
 *       answer (when not {@code null}), else the default: {@code 200} with the backend's name as body (with
 *       {@link #countingUploads()}: the body size and CRC32, see there).</li>
 * </ol>
 * The response is decided once the whole request was read. {@code Expect: 100-continue} is answered
 * {@code 100 Continue} as soon as the request head arrives (or {@code 417} and close, see
 * {@link #rejectExpectContinue()}). Pipelined requests are answered in order, one at a time.
 *
 * <p>Request bodies are aggregated up to {@link #maxAggregatedBody(int)} (64 MiB by default; beyond it the backend
 * answers 413 and closes). For bigger uploads use {@link #countingUploads()} or {@link #echo()}, which hold no body.
 *
 * <p>Every accepted connection, every recorded request and every response is handled on this backend's own
 * single-thread event loop; the methods of this class are thread-safe.
 */
public final class TestBackend implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
        AfterEachCallback, AutoCloseable {

    /** How the backend consumes request bodies. */
    enum BodyMode { AGGREGATE, COUNT, ECHO }

    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final BlockingQueue<RecordedRequest> untaken = new LinkedBlockingQueue<>();
    private final List<RecordedRequest> recorded = new ArrayList<>();
    private final ConcurrentLinkedQueue<TestResponse> script = new ConcurrentLinkedQueue<>();
    private final AtomicLong connectionIds = new AtomicLong();
    private final AtomicInteger healthChecks = new AtomicInteger();

    private volatile String name;
    private volatile boolean healthy = true;
    private volatile Function<RecordedRequest, TestResponse> responder;
    private volatile BodyMode bodyMode = BodyMode.AGGREGATE;
    private volatile boolean rejectExpectContinue;
    private volatile int maxAggregatedBody = 64 * 1024 * 1024;
    private volatile javax.net.ssl.SSLContext tls;   // null: plain HTTP

    private EventLoopGroup group;
    private ChannelGroup connections;
    private Channel serverChannel;
    private volatile int port;
    private boolean classScoped;

    /** A backend that is not started yet (the JUnit extension or {@link #start()} starts it). */
    public TestBackend() {
    }

    /** Starts a new backend; close it when done. */
    public static TestBackend started() {
        return new TestBackend().start();
    }

    /** Starts a new backend named {@code name}; close it when done. */
    public static TestBackend started(String name) {
        return new TestBackend().name(name).start();
    }

    // ---------------------------------------------------------------- lifecycle

    /**
     * Binds {@code 127.0.0.1}: an ephemeral port the first time, the same port again after {@link #stop()}.
     * Does nothing when already running.
     */
    public synchronized TestBackend start() {
        if (serverChannel != null) {
            return this;
        }
        if (group == null) {
            // One daemon thread serves the listening socket and all connections: plenty for a test double, and a
            // forgotten close() cannot keep the JVM alive.
            group = new MultiThreadIoEventLoopGroup(1,
                    new DefaultThreadFactory("test-backend-" + INSTANCES.incrementAndGet(), true),
                    NioIoHandler.newFactory());
            connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        }
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        javax.net.ssl.SSLContext t = tls;
                        if (t != null) {
                            javax.net.ssl.SSLEngine engine = t.createSSLEngine();
                            engine.setUseClientMode(false);
                            ch.pipeline().addLast("tls", new io.netty.handler.ssl.SslHandler(engine));
                        }
                        ch.pipeline()
                                // marker: writes from its context bypass the HTTP encoder (raw bytes)
                                .addLast(BackendHandler.RAW, new ChannelDuplexHandler())
                                .addLast(BackendHandler.CODEC, new HttpServerCodec(new HttpDecoderConfig()
                                        .setMaxInitialLineLength(64 * 1024)
                                        .setMaxHeaderSize(64 * 1024)))
                                .addLast(BackendHandler.CHUNKED, new ChunkedWriteHandler())
                                .addLast(new BackendHandler(TestBackend.this, connectionIds.incrementAndGet()));
                    }
                });
        InetSocketAddress bindAddress = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        serverChannel = bootstrap.bind(bindAddress).syncUninterruptibly().channel();
        port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
        return this;
    }

    /**
     * Closes the listening socket and every accepted connection, like an endpoint dying: new connections are refused
     * until {@link #restart()}. Recordings and script are kept.
     */
    public synchronized void stop() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
            awaitListeningSocketGone(serverChannel.eventLoop());
            serverChannel = null;
        }
        if (connections != null) {
            connections.close().syncUninterruptibly();
        }
    }

    /**
     * NIO defers the kernel close of a channel registered with a selector until the event loop's next select, so a
     * connect right after {@code close()} can still land in the old accept backlog. Probe until connects are
     * refused, so that "stopped" means refused from the moment stop() returns (probes are never accepted). Each
     * empty task wakes the loop's selector, which makes it finish the close.
     */
    private void awaitListeningSocketGone(EventLoop loop) {
        InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            loop.submit(() -> { }).syncUninterruptibly();
            try (Socket probe = new Socket()) {
                probe.connect(address, 1000);
            } catch (IOException refused) {
                return;
            }
            Thread.onSpinWait();
        }
        throw new IllegalStateException(this + " still accepts connections 5 s after stop()");
    }

    /** Binds the same port again after {@link #stop()} (for recovery tests). */
    public TestBackend restart() {
        stop();
        return start();
    }

    /** Stops the backend and its event loop. */
    @Override
    public synchronized void close() {
        stop();
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            group = null;
        }
    }

    /** Whether the backend is listening. */
    public synchronized boolean isRunning() {
        return serverChannel != null;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        classScoped = true;
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (classScoped) {
            reset();
        }
        start();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (!classScoped) {
            close();
        }
    }

    // ---------------------------------------------------------------- addressing

    /** The listening port (kept across {@link #stop()}/{@link #restart()}). */
    public int port() {
        if (port == 0) {
            throw new IllegalStateException("backend not started");
        }
        return port;
    }

    /** {@code "127.0.0.1:<port>"}, the form an endpoint is configured with. */
    public String address() {
        return InetAddress.getLoopbackAddress().getHostAddress() + ":" + port();
    }

    /** The listening address. */
    public InetSocketAddress socketAddress() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port());
    }

    /** {@code http://127.0.0.1:<port><pathAndQuery>}, for talking to the backend directly. */
    public URI uri(String pathAndQuery) {
        return URI.create("http://" + address() + pathAndQuery);
    }

    // ---------------------------------------------------------------- behaviour

    /**
     * Serves HTTPS with {@code serverContext} (e.g. {@link TestCertificates.Issued#serverContext()}) on connections
     * accepted from now on.
     */
    public TestBackend tls(javax.net.ssl.SSLContext serverContext) {
        this.tls = serverContext;
        return this;
    }

    /** Names the backend: the default body and the {@code X-Backend} header of every response. */
    public TestBackend name(String name) {
        this.name = Objects.requireNonNull(name);
        return this;
    }

    /** The backend's name; {@code "backend-<port>"} unless {@linkplain #name(String) set}. */
    public String name() {
        String n = name;
        return n != null ? n : "backend-" + port;
    }

    /** Makes {@code GET /health} answer 200 ({@code true}, the default) or 503 ({@code false}). */
    public TestBackend healthy(boolean healthy) {
        this.healthy = healthy;
        return this;
    }

    /** Queues responses, used one per request in order, before the responder and the default answer. */
    public TestBackend enqueue(TestResponse... responses) {
        for (TestResponse response : responses) {
            script.add(Objects.requireNonNull(response));
        }
        return this;
    }

    /**
     * Answers requests that find the queue empty; returning {@code null} falls back to the default answer. It runs
     * on the backend's event loop: it must not block (use {@link TestResponse#delayHeaders} to be slow).
     */
    public TestBackend respond(Function<RecordedRequest, TestResponse> responder) {
        this.responder = Objects.requireNonNull(responder);
        return this;
    }

    /**
     * Upload mode: request bodies are not kept but counted and check-summed ({@link RecordedRequest#bodySize()},
     * {@link RecordedRequest#bodyCrc32()}), so uploads of any size run in bounded memory. The default answer becomes
     * {@code 200} with headers {@code X-Body-Bytes: <count>} and {@code X-Body-Crc32: <crc as unsigned decimal>}
     * and the body {@code "<count> <crc>"}.
     */
    public TestBackend countingUploads() {
        this.bodyMode = BodyMode.COUNT;
        return this;
    }

    /**
     * Echo mode: every request (except health probes and WebSocket upgrades) is answered at once with a chunked
     * {@code 200} whose body is the request body, streamed back with backpressure: the next bytes are read from the
     * client only after the previous ones were written. The request's {@code Content-Type} is echoed too. The
     * script is not consulted; the recorded request carries the size and CRC32 of the body but not the bytes.
     */
    public TestBackend echo() {
        this.bodyMode = BodyMode.ECHO;
        return this;
    }

    /** Answers {@code Expect: 100-continue} with {@code 417 Expectation Failed} and closes, instead of 100. */
    public TestBackend rejectExpectContinue() {
        this.rejectExpectContinue = true;
        return this;
    }

    /** Limits aggregated request bodies (64 MiB by default); a bigger one gets 413 and the connection closes. */
    public TestBackend maxAggregatedBody(int bytes) {
        this.maxAggregatedBody = bytes;
        return this;
    }

    /**
     * Forgets the recordings, the script, the responder and the modes (name, port and connections stay). Called
     * before each test when the backend is a {@code static} extension.
     */
    public void reset() {
        script.clear();
        synchronized (recorded) {
            untaken.clear();
            recorded.clear();
        }
        healthChecks.set(0);
        responder = null;
        bodyMode = BodyMode.AGGREGATE;
        rejectExpectContinue = false;
        healthy = true;
    }

    // ---------------------------------------------------------------- recordings

    /** All requests received so far, oldest first (health probes excluded). */
    public List<RecordedRequest> requests() {
        synchronized (recorded) {
            return List.copyOf(recorded);
        }
    }

    /** The number of requests received so far (health probes excluded). */
    public int requestCount() {
        synchronized (recorded) {
            return recorded.size();
        }
    }

    /**
     * Takes the oldest request not taken yet, waiting up to {@code timeout} for one to arrive.
     *
     * @throws AssertionError when no request arrives in time (or the waiting thread is interrupted)
     */
    public RecordedRequest takeRequest(Duration timeout) {
        RecordedRequest request;
        try {
            request = untaken.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for a request to " + name(), e);
        }
        if (request == null) {
            throw new AssertionError(name() + " received no request within " + timeout);
        }
        return request;
    }

    /** The number of connections accepted since the backend was created (a keep-alive reuse adds none). */
    public int connectionsAccepted() {
        return (int) connectionIds.get();
    }

    /** The number of connections open right now. */
    public int openConnections() {
        ChannelGroup group = connections;
        return group == null ? 0 : group.size();
    }

    /** The number of {@code GET /health} probes answered. */
    public int healthChecks() {
        return healthChecks.get();
    }

    // ---------------------------------------------------------------- used by BackendHandler (event loop)

    void record(RecordedRequest request) {
        // Never the monitor of `this`: lifecycle methods hold it while waiting for the event loop.
        synchronized (recorded) {
            recorded.add(request);
            untaken.add(request);
        }
    }

    void countHealthCheck() {
        healthChecks.incrementAndGet();
    }

    boolean isHealthy() {
        return healthy;
    }

    BodyMode bodyMode() {
        return bodyMode;
    }

    boolean rejectsExpectContinue() {
        return rejectExpectContinue;
    }

    int maxAggregatedBodySize() {
        return maxAggregatedBody;
    }

    TestResponse responseFor(RecordedRequest request) {
        TestResponse scripted = script.poll();
        if (scripted != null) {
            return scripted;
        }
        Function<RecordedRequest, TestResponse> r = responder;
        if (r != null) {
            TestResponse answer = r.apply(request);
            if (answer != null) {
                return answer;
            }
        }
        if (bodyMode == BodyMode.COUNT) {
            return TestResponse.ok(request.bodySize() + " " + request.bodyCrc32())
                    .header("X-Body-Bytes", request.bodySize())
                    .header("X-Body-Crc32", request.bodyCrc32());
        }
        return TestResponse.ok(name());
    }

    @Override
    public String toString() {
        return "TestBackend[" + name() + " at " + (port == 0 ? "unbound" : address()) + "]";
    }
}
