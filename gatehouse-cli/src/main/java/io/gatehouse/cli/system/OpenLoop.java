package io.gatehouse.cli.system;

import io.gatehouse.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import org.HdrHistogram.Histogram;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An open-loop load at a fixed rate: request i is due at start + i/rate whether or not earlier ones have answered,
 * and its latency is counted from when it was due, not from when it could be sent. A stalled server therefore
 * shows in the percentiles as the queue it would build for real users (coordinated omission corrected, as wrk2
 * does), instead of quietly slowing the generator down.
 *
 * <p>The correction also charges the generator's own hiccups (its GC, its JIT, a busy CPU) to the server, so the
 * generator is built to have few, and its lateness is measured beside the latency: from when a request was due to
 * when the generator got round to sending it. A p99 latency close to the p99 lateness is the generator's, not the
 * server's.
 *
 * <p>Why not the JDK's {@code HttpClient} (used here until session 16): on a core of its own at 2,450 requests/s it
 * took 116 young collections in 20 s, every request passed a virtual thread, the client's selector thread and an
 * executor, and the same generator measured a plain proxy's p99 at 13.9 ms where the Python generator measured an
 * entire system behind that proxy at 5.7 ms. This generator is what wrk2 is, on Netty: one event-loop thread that
 * paces the requests with its timer, writes pre-encoded requests on keep-alive HTTP/1.1 connections (one request at
 * a time each, no pipelining), and reads the answers with Netty's own decoder (not the edge's, so a framing defect of
 * the edge cannot hide itself). When every connection is busy, a new one is opened, up to a bound; beyond it a
 * request waits for a connection, its latency still counted from when it was due.
 */
public final class OpenLoop {
    /**
     * The outcome: latencies in microseconds from the intended send time, and the generator's own lateness in
     * microseconds (due to sent) for every request sent.
     */
    public record Result(Histogram latencyMicros, Histogram latenessMicros, long sent, long ok, long errors, long dropped,
                         Duration elapsed) {
        public double achievedRate() {
            return ok / Math.max(1e-9, elapsed.toNanos() / 1e9);
        }
    }

    private OpenLoop() {}

    /** One run on a client of its own. */
    public static Result run(URI base, List<String> paths, Zipf pick, int rate, Duration duration, Duration timeout,
                             int maxInFlight, long seed) throws InterruptedException {
        try (Client client = new Client(base, Client.DEFAULT_CONNECTIONS, null)) {
            return client.run(paths, pick, rate, duration, timeout, maxInFlight, seed);
        }
    }

    /**
     * Keep-alive connections to one origin, on one event-loop thread, kept across runs so that a warm-up and the
     * measured run share them (the measured run then opens none, unless the server falls behind).
     */
    public static final class Client implements AutoCloseable {
        /** Enough for a queue of 256 requests outstanding at once; beyond it requests wait for a connection. */
        public static final int DEFAULT_CONNECTIONS = 256;

        private final String host;
        private final int port;
        private final String pathPrefix;
        private final String hostHeader;
        private final int maxConnections;
        private final EventLoopGroup group;
        private final EventLoop loop;
        private final Bootstrap bootstrap;
        // Loop-confined state.
        private final ArrayDeque<Connection> idle = new ArrayDeque<>();
        private final List<Connection> all = new ArrayList<>();
        private int connections; // open or opening
        private int connecting;
        private Run run;

        /**
         * @param trusted for https: the PEM certificates to trust (the local CA of {@code up}, say); null: the JDK's
         *                trusted authorities
         */
        public Client(URI base, int maxConnections, java.nio.file.Path trusted) {
            String scheme = base.getScheme() == null ? "http" : base.getScheme().toLowerCase(java.util.Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) throw new IllegalArgumentException("not an http(s) URL: " + base);
            if (base.getHost() == null) throw new IllegalArgumentException("no host in " + base);
            boolean tls = scheme.equals("https");
            this.host = base.getHost();
            this.port = base.getPort() > 0 ? base.getPort() : tls ? 443 : 80;
            String path = base.getRawPath() == null || base.getRawPath().isEmpty() ? "/" : base.getRawPath();
            this.pathPrefix = path.endsWith("/") ? path : path + "/";
            this.hostHeader = base.getPort() > 0 ? host + ":" + port : host;
            this.maxConnections = Math.max(1, maxConnections);
            SslContext ssl;
            try {
                ssl = !tls ? null : trusted == null ? SslContextBuilder.forClient().build()
                        : SslContextBuilder.forClient().trustManager(trusted.toFile()).build();
            } catch (javax.net.ssl.SSLException e) {
                throw new IllegalStateException("TLS client set-up failed: " + e.getMessage(), e);
            }
            Transport transport = Transport.select("auto");
            // One thread: the generator's whole hot path, with no hand-off between threads.
            this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("gatehouse-load", true), transport.ioHandlerFactory());
            this.loop = group.next();
            this.bootstrap = transport.clientBootstrap(loop, Duration.ofSeconds(2), true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            if (ssl != null) ch.pipeline().addLast(ssl.newHandler(ch.alloc(), host, port));
                            // Header validation is the server's business here; the generator only frames answers.
                            ch.pipeline().addLast(new HttpResponseDecoder(4096, 16 * 1024, 8192, false));
                            ch.pipeline().addLast(new Connection(Client.this));
                        }
                    });
        }

        /**
         * Requests the paths (relative to the base URL) at {@code rate} per second for {@code duration}, picking each
         * with {@code pick}; waits for the last answer (each at most {@code timeout} after it was sent).
         *
         * @param maxInFlight beyond this many outstanding requests (waiting for a connection or answered yet), new ones
         *                    are dropped and counted (bounded memory)
         */
        public Result run(List<String> paths, Zipf pick, int rate, Duration duration, Duration timeout, int maxInFlight,
                          long seed) throws InterruptedException {
            if (rate <= 0) throw new IllegalArgumentException("rate must be positive");
            Run r = new Run(this, encode(paths), pick, new SplittableRandom(seed), rate, duration, timeout, maxInFlight);
            loop.execute(() -> start(r));
            try {
                return r.done.get(duration.plus(timeout).plusSeconds(30).toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw new IllegalStateException("load run failed: " + e.getCause(), e.getCause());
            } catch (TimeoutException e) {
                loop.execute(() -> r.finish(true));
                throw new IllegalStateException("load run did not finish in time", e);
            } finally {
                loop.execute(() -> run = null);
            }
        }

        /** Each path's whole request, encoded once: sending one is a write of a view of these bytes. */
        private ByteBuf[] encode(List<String> paths) {
            byte[][] each = new byte[paths.size()][];
            int total = 0;
            for (int i = 0; i < paths.size(); i++) {
                String p = paths.get(i);
                String target = p.startsWith("/") ? p : pathPrefix + p;
                each[i] = ("GET " + target + " HTTP/1.1\r\nHost: " + hostHeader + "\r\nUser-Agent: gatehouse-load\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII);
                total += each[i].length;
            }
            ByteBuf bytes = Unpooled.unreleasableBuffer(Unpooled.directBuffer(total, total));
            ByteBuf[] out = new ByteBuf[each.length];
            for (int i = 0; i < each.length; i++) {
                out[i] = bytes.slice(bytes.writerIndex(), each[i].length);
                bytes.writeBytes(each[i]);
            }
            return out;
        }

        private void start(Run r) {
            run = r;
            r.start = System.nanoTime();
            r.sweep = loop.scheduleAtFixedRate(r::expire, 100, 100, TimeUnit.MILLISECONDS);
            r.tick();
        }

        /** A request is ready to go: on an idle connection, else queued for the next one (opened if allowed). */
        private void dispatch(Run r, long due, int path) {
            Connection c = idle.pollLast(); // the most recently used: its buffers and cache lines are warm
            if (c != null) {
                c.send(r, due, path);
                return;
            }
            r.waiting.add(new long[] {due, path});
            // one connection opening per waiting request: the ones already opening will take the first
            if (connections < maxConnections && connecting < r.waiting.size()) connect();
        }

        private void connect() {
            connections++;
            connecting++;
            ChannelFuture f = bootstrap.connect(host, port);
            f.addListener(done -> {
                connecting--;
                if (!done.isSuccess()) {
                    connections--;
                    Run r = run;
                    // Nothing answered: every request waiting with no connection left to serve it fails now,
                    // rather than a retry loop against a server that is down.
                    if (r != null && connections == 0) {
                        while (!r.waiting.isEmpty()) {
                            r.waiting.poll();
                            r.errors++;
                            r.inFlight--;
                        }
                        r.maybeFinish();
                    }
                }
            });
        }

        void ready(Connection c) {
            all.add(c);
            release(c);
        }

        /** A connection is free: it takes the oldest waiting request, or goes idle. */
        void release(Connection c) {
            Run r = run;
            long[] next = r == null ? null : r.waiting.poll();
            if (next != null) {
                c.send(r, next[0], (int) next[1]);
            } else {
                idle.addLast(c);
            }
        }

        void closed(Connection c) {
            all.remove(c);
            idle.remove(c);
            connections--;
            Run r = run;
            if (r != null && !r.waiting.isEmpty() && connections < maxConnections) connect();
        }

        @Override
        public void close() {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** One run's schedule and figures; touched only on the client's event loop until {@link #done} completes. */
    private static final class Run {
        final Client client;
        final ByteBuf[] requests;
        final Zipf pick;
        final SplittableRandom random;
        final long intervalNanos;
        final long total;
        final long timeoutNanos;
        final int maxInFlight;
        final Histogram latency = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
        final Histogram lateness = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
        final ArrayDeque<long[]> waiting = new ArrayDeque<>();
        final CompletableFuture<Result> done = new CompletableFuture<>();
        long start;
        long next;
        long sent, ok, errors, dropped;
        int inFlight;
        ScheduledFuture<?> sweep;

        Run(Client client, ByteBuf[] requests, Zipf pick, SplittableRandom random, int rate, Duration duration, Duration timeout,
            int maxInFlight) {
            this.client = client;
            this.requests = requests;
            this.pick = pick;
            this.random = random;
            this.intervalNanos = 1_000_000_000L / rate;
            this.total = duration.toNanos() / intervalNanos;
            this.timeoutNanos = timeout.toNanos();
            this.maxInFlight = maxInFlight;
        }

        /** Sends everything due by now, then sleeps on the loop's timer until the next one is due. */
        void tick() {
            if (done.isDone()) return;
            long now = System.nanoTime();
            while (next < total) {
                long due = start + next * intervalNanos;
                if (due > now) break;
                next++;
                if (inFlight >= maxInFlight) {
                    dropped++;
                    continue;
                }
                inFlight++;
                sent++;
                lateness.recordValue(Math.min((now - due) / 1000, lateness.getHighestTrackableValue()));
                client.dispatch(this, due, pick.next(random));
            }
            if (next < total) {
                client.loop.schedule(this::tick, start + next * intervalNanos - now, TimeUnit.NANOSECONDS);
            } else {
                maybeFinish();
            }
        }

        void answered(long due, boolean success) {
            long micros = (System.nanoTime() - due) / 1000;
            latency.recordValue(Math.min(micros, latency.getHighestTrackableValue()));
            if (success) ok++;
            else errors++;
            inFlight--;
        }

        void failed() {
            errors++;
            inFlight--;
        }

        /** Requests sent longer ago than the timeout fail, and their connections close. */
        void expire() {
            long now = System.nanoTime();
            for (Connection c : List.copyOf(client.all)) {
                if (c.busy && now - c.sentAt > timeoutNanos) c.timeOut();
            }
            maybeFinish();
        }

        void maybeFinish() {
            if (next >= total && inFlight == 0) finish(false);
        }

        void finish(boolean abandoned) {
            if (done.isDone()) return;
            if (sweep != null) sweep.cancel(false);
            if (abandoned) {
                errors += inFlight;
                inFlight = 0;
            }
            done.complete(new Result(latency, lateness, sent, ok, errors, dropped, Duration.ofNanos(System.nanoTime() - start)));
        }
    }

    /** One keep-alive connection: one request at a time, its answer read and dropped. */
    private static final class Connection extends ChannelInboundHandlerAdapter {
        final Client client;
        Channel channel;
        Run run;
        boolean busy;
        long due;
        long sentAt;
        int status;
        boolean keepAlive;

        Connection(Client client) {
            this.client = client;
        }

        void send(Run r, long due, int path) {
            run = r;
            busy = true;
            this.due = due;
            sentAt = System.nanoTime();
            status = 0;
            channel.writeAndFlush(r.requests[path].duplicate(), channel.voidPromise());
        }

        void timeOut() {
            busy = false;
            run.failed();
            channel.close();
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            channel = ctx.channel();
            client.ready(this);
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpResponse res) {
                    if (res.decoderResult().isFailure()) {
                        fail(ctx);
                        return;
                    }
                    status = res.status().code();
                    keepAlive = HttpUtil.isKeepAlive(res);
                }
                if (msg instanceof LastHttpContent last) {
                    if (last.decoderResult().isFailure()) {
                        fail(ctx);
                        return;
                    }
                    if (status >= 100 && status < 200 && status != 101) return; // an interim answer: the final one follows
                    if (!busy) return;
                    busy = false;
                    Run r = run;
                    r.answered(due, status < 400);
                    if (keepAlive) {
                        client.release(this);
                    } else {
                        ctx.close();
                    }
                    r.maybeFinish();
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void fail(ChannelHandlerContext ctx) {
            if (busy) {
                busy = false;
                run.failed();
                run.maybeFinish();
            }
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (busy) {
                busy = false;
                run.failed();
                run.maybeFinish();
            }
            // A connection that never became active was counted down by its connect listener.
            if (channel != null) client.closed(this);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
