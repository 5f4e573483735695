package io.gatehouse.cache;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.gatehouse.Protocol;
import io.micrometer.core.instrument.Gauge;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The client whose miss started a stored response leaves midway (HTTP/1.1: it closes its socket; HTTP/2: it resets
 * its stream, or closes its whole connection): a storing cache reads on to the end, as Varnish does and nginx with
 * {@code proxy_ignore_client_abort}, so the coalesced waiters get the whole body, the object is stored (memory and
 * disk), and the origin connection goes back to the pool. A response not stored is cut off at once; an origin that
 * stalls afterwards is cut off by the cluster's idle timeout, visibly for the waiters; one that outgrows
 * {@code max_object_size} after the client left is cut there, and the waiters finish with origin requests of their own. The origin is a raw socket
 * server the test holds midway through each body and that counts requests and sees its connections closed.
 * Netty's paranoid leak detection runs (the build's default): no leak may be reported.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Protocol.class)
class CacheClientAbortTest {
    static final int SIZE = 1 << 20, FIRST = 64 * 1024, SECOND = 256 * 1024, READ = 16 * 1024, WAITERS = 20;
    static RawOrigin origin;
    static CacheEdge edge;
    static ListAppender<ILoggingEvent> leaks;
    static ResourceLeakDetector.Level leakLevel;
    static final List<HttpClient> clients = java.util.Collections.synchronizedList(new ArrayList<>());
    @TempDir
    static Path dir;
    @Parameter
    Protocol protocol;

    @BeforeAll
    static void startOrigin() throws IOException {
        origin = new RawOrigin();
        leakLevel = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        leaks = new ListAppender<>();
        leaks.start();
        ((Logger) LoggerFactory.getLogger(ResourceLeakDetector.class)).addAppender(leaks);
    }

    @BeforeEach
    void startFor() {
        if (edge != null && edge.protocol == protocol) return;
        stopEdge();
        edge = CacheEdge.start(protocol, """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    {tls}
                    routes:
                      - name: stalling
                        match: {path_prefix: /stall}
                        cluster: slow
                        filters: [cache: {x_cache: true, coalesce_timeout: 25s, max_object_size: 4MiB}]
                      - name: small
                        match: {path_prefix: /big}
                        cluster: app
                        filters: [cache: {x_cache: true, coalesce_timeout: 25s, max_object_size: 512KiB}]
                      - name: all
                        cluster: app
                        filters: [cache: {x_cache: true, coalesce_timeout: 25s, max_object_size: 4MiB, disk: {path: "%s", max_size: 64MiB}}]
                clusters:
                  - name: app
                    endpoints: ["127.0.0.1:%d"]
                  - name: slow
                    endpoints: ["127.0.0.1:%d"]
                    timeouts: {idle: 1s}
                access_log: {path: "%s", format: json}
                admin: {address: "off"}
                """.formatted(dir.resolve("disk-" + protocol), origin.port(), origin.port(), log()), null);
    }

    Path log() {
        return dir.resolve("access-" + protocol + ".log");
    }

    static void stopEdge() {
        if (edge != null) edge.close();
        edge = null;
    }

    @AfterAll
    static void stop() throws IOException {
        try {
            clients.forEach(HttpClient::shutdownNow);
            stopEdge();
            origin.close();
            // paranoid detection reports a leaked buffer when a later allocation finds it collected
            System.gc();
            for (int i = 0; i < 64; i++) io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(1024).release();
            assertThat(leaks.list).as("Netty leak reports").noneMatch(e -> e.getFormattedMessage().contains("LEAK"));
        } finally {
            ((Logger) LoggerFactory.getLogger(ResourceLeakDetector.class)).detachAppender(leaks);
            ResourceLeakDetector.setLevel(leakLevel);
        }
    }

    enum Leave { CLOSE_STREAM, CLOSE_CONNECTION }

    // ---- (a) the first client leaves, twenty waiters get everything, the object is stored ----

    @Test
    void theFirstClientClosingItsStreamLeavesTheWaitersAWholeStoredResponse() throws Exception {
        storesAfterTheFirstClientLeft("/store-stream-" + protocol, Leave.CLOSE_STREAM, WAITERS);
    }

    @Test
    void theFirstClientClosingItsConnectionLeavesTheWaitersAWholeStoredResponse() throws Exception {
        storesAfterTheFirstClientLeft("/store-conn-" + protocol, Leave.CLOSE_CONNECTION, WAITERS);
    }

    // ---- (b) nobody waits: still stored ----

    @Test
    void withNoWaiterTheResponseIsStillStored() throws Exception {
        storesAfterTheFirstClientLeft("/store-alone-" + protocol, Leave.CLOSE_STREAM, 0);
    }

    private void storesAfterTheFirstClientLeft(String path, Leave how, int waiterCount) throws Exception {
        CountDownLatch[] gate = origin.gate(path);
        try {
            double originBytesBefore = originBytes();
            long objectsBefore = objects();
            Leaver leader = leave(path, how);
            await().atMost(Duration.ofSeconds(10)).until(() -> origin.count(path) == 1);
            double before = edge.counter("gatehouse.cache.coalesced", "all");
            List<CompletableFuture<HttpResponse<byte[]>>> waiters = new ArrayList<>();
            for (int i = 0; i < waiterCount; i++) {
                waiters.add(edge.client.sendAsync(HttpRequest.newBuilder(edge.uri(path)).timeout(Duration.ofSeconds(60)).build(),
                        HttpResponse.BodyHandlers.ofByteArray()));
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> edge.counter("gatehouse.cache.coalesced", "all") - before >= waiterCount);

            leader.leave();
            // the exchange ended when the client left, once, and the log says so, while the origin is still held
            String line = awaitClientGone(path, gate);
            assertThat(line).contains("\"status\":200");
            assertThat(gate[1].getCount()).isEqualTo(1);
            gate[1].countDown();

            byte[] expected = RawOrigin.body(path);
            for (var w : waiters) {
                HttpResponse<byte[]> r = w.get(30, TimeUnit.SECONDS);
                assertThat(r.version()).isEqualTo(protocol.version());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo(expected);
            }
            // stored, in memory: the next one is a hit, and the origin saw one request. With no waiter nothing says
            // when the rest of the body is in, so the store is awaited with only-if-cached probes (a 504 until it is
            // stored, never a request to the origin): a plain GET sent too early would be a second fetch.
            await().atMost(Duration.ofSeconds(10)).until(() -> edge.xCache(path, "cache-control", "only-if-cached"), "HIT"::equals);
            assertThat(edge.xCache(path)).as(() -> logLinesQuietly(path)).isEqualTo("HIT");
            HttpResponse<byte[]> hit = edge.client.send(HttpRequest.newBuilder(edge.uri(path)).timeout(Duration.ofSeconds(15)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(hit.headers().firstValue("x-cache")).hasValue("HIT");
            assertThat(hit.body()).isEqualTo(expected);
            assertThat(origin.count(path)).isEqualTo(1);
            // and on disk
            await().atMost(Duration.ofSeconds(10)).until(() -> objects() == objectsBefore + 1);
            // the origin's bytes read after the client left are counted, and its connection went back to the pool
            assertThat(originBytes() - originBytesBefore).isEqualTo(SIZE);
            await().atMost(Duration.ofSeconds(10)).until(() -> gauge("gatehouse.cluster.requests.active", "app", null) == 0
                    && gauge("gatehouse.cluster.connections", "app", "idle") >= 1);
            assertThat(origin.closed).doesNotContain(origin.connectionOf.get(path));
            // exactly one line for the first client, written when it left
            assertThat(logLines(path).stream().filter(l -> l.contains("client_gone")).count()).isEqualTo(1);
        } finally {
            origin.open(path);
        }
    }

    /**
     * The origin sends its second part, and the client's leaving is seen: at once on HTTP/2 (its RST_STREAM or the
     * connection's close), on HTTP/1.1 when Gatehouse writes to the closed socket (it does not read from a connection
     * while it answers on it); then the log line of the first client.
     */
    private String awaitClientGone(String path, CountDownLatch[] gate) {
        gate[0].countDown();
        try {
            return await().atMost(Duration.ofSeconds(10)).until(() -> logLine(path, "client_gone"), l -> l != null);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("no client_gone line for " + path + " in: " + logLinesQuietly(path), e);
        }
    }

    // ---- (c) not stored: the client leaving cuts the origin read ----

    @Test
    void aResponseNotStoredIsCutOffWhenTheClientLeaves() throws Exception {
        String path = "/nostore-" + protocol;
        CountDownLatch[] gate = origin.gate(path);
        try {
            Leaver leader = leave(path, Leave.CLOSE_STREAM);
            await().atMost(Duration.ofSeconds(10)).until(() -> origin.count(path) == 1);
            assertThat(origin.cut).doesNotContainKey(path);
            leader.leave();
            awaitClientGone(path, gate);
            // the origin, which sent two parts and waits, sees its connection closed before the body ended
            await().atMost(Duration.ofSeconds(10)).until(() -> origin.cut.containsKey(path));
            assertThat(origin.cut.get(path)).isLessThan(SIZE);
            assertThat(notStored(path)).isTrue();
        } finally {
            origin.open(path);
        }
    }

    // ---- (d) the origin stalls after the client left: the idle timeout ends it, visibly ----

    @Test
    void anOriginThatStallsAfterTheClientLeftIsCutByTheIdleTimeoutAndTheWaitersSeeAnError() throws Exception {
        String path = "/stall/" + protocol;
        CountDownLatch[] gate = origin.gate(path);
        long objectsBefore = objects();
        Leaver leader = leave(path, Leave.CLOSE_STREAM);
        await().atMost(Duration.ofSeconds(10)).until(() -> origin.count(path) == 1);
        double before = edge.counter("gatehouse.cache.coalesced", "stalling");
        List<CompletableFuture<HttpResponse<InputStream>>> waiters = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            waiters.add(edge.client.sendAsync(HttpRequest.newBuilder(edge.uri(path)).timeout(Duration.ofSeconds(60)).build(),
                    HttpResponse.BodyHandlers.ofInputStream()));
        }
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> edge.counter("gatehouse.cache.coalesced", "stalling") - before >= 3);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("coalesced " + (edge.counter("gatehouse.cache.coalesced", "stalling") - before) + ", origin "
                    + origin.count(path) + ", cut " + origin.cut.get(path) + ", log: " + logLinesQuietly(path)
                    + " all: " + edge.counter("gatehouse.cache.coalesced", "all") + " waiters " + waiters, e);
        }
        leader.leave();
        awaitClientGone(path, gate);
        // the read went on, and the cluster's idle timeout (1 s) ends it: the origin sees its connection closed
        await().atMost(Duration.ofSeconds(15)).until(() -> origin.cut.containsKey(path));
        for (var w : waiters) {
            HttpResponse<InputStream> r = w.get(15, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            // the head promised the whole length: the body breaks off short of it, an error, not a quiet end
            try (InputStream in = r.body()) {
                IOException broke = null;
                byte[] got = null;
                try {
                    got = in.readAllBytes();
                } catch (IOException e) {
                    broke = e;
                }
                if (broke == null) assertThat(got.length).as("a silently truncated body").isEqualTo(-1);
            }
        }
        assertThat(notStored(path)).isTrue();
        assertThat(objects()).isEqualTo(objectsBefore);
        assertThat(origin.count(path)).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> gauge("gatehouse.cluster.requests.active", "slow", null) == 0);
    }

    // ---- (e) too big after the client left: the read stops there, the waiters go on by themselves ----

    @Test
    void aResponseThatOutgrowsTheStoreAfterTheClientLeftStopsThereAndTheWaitersContinueOnTheirOwn() throws Exception {
        String path = "/big/" + protocol;   // chunked: its size is known only as it arrives (max_object_size 512 KiB)
        CountDownLatch[] gate = origin.gate(path);
        try {
            Leaver leader = leave(path, Leave.CLOSE_STREAM);
            await().atMost(Duration.ofSeconds(10)).until(() -> origin.count(path) == 1);
            double before = edge.counter("gatehouse.cache.coalesced", "small");
            List<CompletableFuture<HttpResponse<byte[]>>> waiters = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                waiters.add(edge.client.sendAsync(HttpRequest.newBuilder(edge.uri(path)).timeout(Duration.ofSeconds(60)).build(),
                        HttpResponse.BodyHandlers.ofByteArray()));
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> edge.counter("gatehouse.cache.coalesced", "small") - before >= 3);
            leader.leave();
            awaitClientGone(path, gate);
            int first = origin.connectionOf.get(path);
            gate[1].countDown();   // the rest: past 512 KiB
            byte[] expected = RawOrigin.body(path);
            for (var w : waiters) {
                HttpResponse<byte[]> r = w.get(30, TimeUnit.SECONDS);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo(expected);
            }
            // each waiter fetched the rest itself; the first read was dropped, not pooled: its connection closed
            assertThat(origin.count(path)).isEqualTo(1 + 3);
            await().atMost(Duration.ofSeconds(10)).until(() -> origin.closed.contains(first));
            assertThat(notStored(path)).isTrue();
        } finally {
            origin.open(path);
        }
    }

    // ---- the first client ----

    interface Leaver {
        void leave() throws Exception;
    }

    /** Sends the first request for {@code path}, reads its head and the first 16 KiB, and returns how it leaves. */
    private Leaver leave(String path, Leave how) throws Exception {
        if (protocol == Protocol.HTTP_1_1) {
            Socket s = new Socket(InetAddress.getLoopbackAddress(), edge.port());
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            CompletableFuture<Void> read = CompletableFuture.runAsync(() -> {
                try {
                    InputStream in = s.getInputStream();
                    assertThat(RawHttp.line(in)).contains(" 200 ");
                    boolean chunked = false;
                    for (String line; !(line = RawHttp.line(in)).isEmpty(); ) {
                        chunked |= line.equalsIgnoreCase("transfer-encoding: chunked");
                    }
                    ByteArrayOutputStream body = new ByteArrayOutputStream();
                    while (body.size() < READ) {
                        if (!chunked) {
                            body.writeBytes(in.readNBytes(READ));
                            break;
                        }
                        int size = Integer.parseInt(RawHttp.line(in).split(";")[0].strip(), 16);
                        body.writeBytes(in.readNBytes(size));
                        RawHttp.line(in);
                    }
                    assertThat(Arrays.equals(body.toByteArray(), 0, READ, RawOrigin.body(path), 0, READ)).as("the first 16 KiB").isTrue();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            return () -> {
                read.get(20, TimeUnit.SECONDS);
                s.close();   // (on HTTP/1.1 the stream is the connection)
            };
        }
        if (how == Leave.CLOSE_CONNECTION) return rawHttp2(path);
        HttpClient own = protocol.client();   // its own connection, so that resetting touches nobody else
        CompletableFuture<HttpResponse<InputStream>> response = own.sendAsync(
                HttpRequest.newBuilder(edge.uri(path)).timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofInputStream());
        return () -> {
            HttpResponse<InputStream> r = response.get(20, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body().readNBytes(READ)).isEqualTo(Arrays.copyOf(RawOrigin.body(path), READ));
            r.body().close();   // RST_STREAM; the connection stays (closed when the test class ends)
            clients.add(own);
        };
    }

    /**
     * The first client on HTTP/2 over its own TLS connection, spoken frame by frame (the JDK client closes a connection
     * only when it pleases): GET, the head and 16 KiB of DATA read, then the whole connection closed.
     */
    private Leaver rawHttp2(String path) throws Exception {
        Socket tcp = new Socket();
        tcp.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), edge.port()), 5000);
        javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) protocol.client().sslContext().getSocketFactory()
                .createSocket(tcp, "localhost", edge.port(), true);
        javax.net.ssl.SSLParameters p = s.getSSLParameters();
        p.setApplicationProtocols(new String[] {"h2"});
        s.setSSLParameters(p);
        s.setSoTimeout(20_000);
        s.startHandshake();
        assertThat(s.getApplicationProtocol()).isEqualTo("h2");
        java.io.DataOutputStream out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(s.getOutputStream()));
        out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        frame(out, 0x4, 0, 0, new byte[0]);   // SETTINGS
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        for (String[] h : new String[][] {{":method", "GET"}, {":scheme", "https"}, {":path", path}, {":authority", "localhost"}}) {
            block.write(0);   // literal without indexing, new name, no Huffman (RFC 7541 §6.2.2)
            block.write(h[0].length());
            block.writeBytes(h[0].getBytes(StandardCharsets.ISO_8859_1));
            block.write(h[1].length());
            block.writeBytes(h[1].getBytes(StandardCharsets.ISO_8859_1));
        }
        frame(out, 0x1, 0x5, 1, block.toByteArray());   // HEADERS, END_STREAM | END_HEADERS
        out.flush();
        CompletableFuture<Void> read = CompletableFuture.runAsync(() -> {
            try {
                java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                boolean head = false;
                while (body.size() < READ) {
                    int length = (in.readUnsignedShort() << 8) | in.readUnsignedByte();
                    int type = in.readUnsignedByte(), flags = in.readUnsignedByte(), stream = in.readInt() & 0x7fffffff;
                    byte[] payload = in.readNBytes(length);
                    if (type == 0x4 && (flags & 1) == 0) {
                        synchronized (out) {
                            frame(out, 0x4, 1, 0, new byte[0]);   // SETTINGS ack
                            out.flush();
                        }
                    } else if (type == 0x1 && stream == 1) {
                        head = true;
                    } else if (type == 0x0 && stream == 1) {
                        int pad = (flags & 0x8) != 0 ? payload[0] + 1 : 0;
                        body.write(payload, pad == 0 ? 0 : 1, payload.length - pad);
                    } else if (type == 0x3 || type == 0x7) {
                        throw new IllegalStateException("reset or GOAWAY before 16 KiB (frame type " + type + ")");
                    }
                }
                assertThat(head).isTrue();
                assertThat(Arrays.copyOf(body.toByteArray(), READ)).isEqualTo(Arrays.copyOf(RawOrigin.body(path), READ));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        return () -> {
            read.get(20, TimeUnit.SECONDS);
            // the whole connection goes, with the stream in the middle of its body: at once, as when a client's
            // process dies (a TLS close would wait for the server's close_notify)
            tcp.setSoLinger(true, 0);
            tcp.close();
        };
    }

    private static void frame(java.io.DataOutputStream out, int type, int flags, int stream, byte[] payload) throws IOException {
        out.writeShort(payload.length >>> 8);
        out.writeByte(payload.length & 0xff);
        out.writeByte(type);
        out.writeByte(flags);
        out.writeInt(stream);
        out.write(payload);
    }

    // ---- what the test reads ----

    /** Nothing stored for {@code path}: {@code only-if-cached} is answered 504 without asking the origin. */
    private boolean notStored(String path) {
        return edge.get(path, "cache-control", "only-if-cached").statusCode() == 504;
    }

    private double originBytes() {
        return edge.gatehouse.telemetry().metrics().registry().get("gatehouse.cache.bytes").tag("route", "all")
                .tag("source", "origin").counter().count();
    }

    private long objects() throws IOException {
        Path d = dir.resolve("disk-" + protocol);
        if (!Files.exists(d)) return 0;
        try (Stream<Path> files = Files.walk(d)) {
            return files.filter(f -> f.toString().endsWith(".obj")).count();
        }
    }

    private double gauge(String name, String cluster, String state) {
        var search = edge.gatehouse.telemetry().metrics().registry().find(name).tag("cluster", cluster);
        if (state != null) search = search.tag("state", state);
        Gauge g = search.gauge();
        return g == null ? -1 : g.value();
    }

    private List<String> logLines(String path) throws IOException {
        if (!Files.exists(log())) return List.of();
        return Files.readAllLines(log()).stream().filter(l -> l.contains("\"path\":\"" + path + "\"")).toList();
    }

    private String logLinesQuietly(String path) {
        try {
            return String.join("\n", logLines(path));
        } catch (IOException e) {
            return e.toString();
        }
    }

    private String logLine(String path, String reason) throws IOException {
        return logLines(path).stream().filter(l -> l.contains(reason)).findFirst().orElse(null);
    }

    /**
     * An origin on raw sockets: every response is {@link #SIZE} bytes with Content-Length, of which it sends the
     * first {@link #FIRST} at once and the next {@link #SECOND} when the path's first gate opens. {@code /store…} is
     * cacheable and sends the rest when the second gate opens; {@code /nostore…} ({@code no-store}) and
     * {@code /stall…} (cacheable) never send the rest, and note how much they had sent when Gatehouse closed the
     * connection.
     */
    static final class RawOrigin implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
        final ExecutorService threads = Executors.newCachedThreadPool();
        final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
        final Map<String, CountDownLatch[]> gates = new ConcurrentHashMap<>();
        final Map<String, Integer> cut = new ConcurrentHashMap<>();
        final Map<String, Integer> connectionOf = new ConcurrentHashMap<>();
        final Set<Integer> closed = ConcurrentHashMap.newKeySet();
        final List<Socket> sockets = java.util.Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger connections = new AtomicInteger();

        RawOrigin() throws IOException {
            threads.execute(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        sockets.add(s);
                        int id = connections.incrementAndGet();
                        threads.execute(() -> serve(s, id));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        int port() {
            return server.getLocalPort();
        }

        /** The two gates of {@code path}'s response: before its second part, and (if stored) before the rest. */
        CountDownLatch[] gate(String path) {
            CountDownLatch[] g = {new CountDownLatch(1), new CountDownLatch(1)};
            gates.put(path, g);
            return g;
        }

        void open(String path) {
            CountDownLatch[] g = gates.get(path);
            if (g != null) for (CountDownLatch l : g) l.countDown();
        }

        int count(String path) {
            AtomicInteger n = counts.get(path);
            return n == null ? 0 : n.get();
        }

        static byte[] body(String path) {
            int seed = path.hashCode();
            byte[] b = new byte[SIZE];
            for (int i = 0; i < SIZE; i++) b[i] = (byte) (i * 31 + (i >> 10) + seed);
            return b;
        }

        private void serve(Socket s, int id) {
            try (s) {
                InputStream in = new BufferedInputStream(s.getInputStream());
                OutputStream out = s.getOutputStream();
                while (true) {
                    String head = head(in);
                    if (head == null) return;
                    String path = head.split(" ")[1];
                    counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
                    connectionOf.put(path, id);
                    boolean noStore = path.startsWith("/nostore");
                    boolean chunked = path.startsWith("/big");
                    byte[] body = body(path);
                    out.write(("HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n"
                            + (chunked ? "transfer-encoding: chunked" : "content-length: " + SIZE)
                            + "\r\ncache-control: " + (noStore ? "no-store" : "max-age=600") + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    // a later request for a path (a waiter's continuation) is answered whole at once
                    CountDownLatch[] gate = counts.get(path).get() == 1 ? gates.get(path) : null;
                    if (chunked) {
                        int sent = 0;
                        for (int i = 0; i < 3; i++) {
                            if (i > 0 && gate != null && !gate[i - 1].await(30, TimeUnit.SECONDS)) return;
                            int to = i == 0 ? FIRST : i == 1 ? FIRST + SECOND : SIZE;
                            out.write((Integer.toHexString(to - sent) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                            sent = send(out, path, body, sent, to);
                            out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                        }
                        out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                        out.flush();
                        continue;
                    }
                    int sent = send(out, path, body, 0, FIRST);
                    // until the first gate opens, a kilobyte every 200 ms: an origin that is slow, not silent (the
                    // stalling cluster's idle timeout is 1 s)
                    while (gate != null && !gate[0].await(200, TimeUnit.MILLISECONDS)) {
                        if (sent - FIRST > SECOND / 2) return;   // never opened: give up
                        sent = send(out, path, body, sent, sent + 1024);
                    }
                    sent = send(out, path, body, sent, FIRST + SECOND);
                    if (noStore || path.startsWith("/stall")) {
                        // the rest never comes: wait for Gatehouse to let go of the connection
                        s.setSoTimeout(60_000);
                        try {
                            if (in.read() < 0) cut.put(path, sent);
                        } catch (IOException e) {
                            cut.put(path, sent);
                        }
                        return;
                    }
                    if (gate != null && !gate[1].await(30, TimeUnit.SECONDS)) return;
                    send(out, path, body, sent, SIZE);
                }
            } catch (IOException | InterruptedException e) {
                // the connection went: noted below
            } finally {
                closed.add(id);
            }
        }

        /** Sends {@code body[from, to)}; notes where it stopped if Gatehouse closed the connection meanwhile. */
        private int send(OutputStream out, String path, byte[] body, int from, int to) throws IOException {
            try {
                out.write(body, from, to - from);
                out.flush();
                return to;
            } catch (IOException e) {
                cut.put(path, from);
                throw e;
            }
        }

        /** The request head, or null when the connection closed first. */
        private static String head(InputStream in) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int c, matched = 0;
            while ((c = in.read()) >= 0) {
                b.write(c);
                matched = (c == '\r' && (matched == 0 || matched == 2)) || (c == '\n' && (matched == 1 || matched == 3)) ? matched + 1 : 0;
                if (matched == 4) return b.toString(StandardCharsets.ISO_8859_1);
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            server.close();
            synchronized (sockets) {
                for (Socket s : sockets) s.close();
            }
            threads.shutdownNow();
        }
    }
}
