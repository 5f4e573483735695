package io.gatehouse.listener;

import ch.qos.logback.classic.Level;
import io.gatehouse.GatehouseFixture;
import io.gatehouse.LogCapture;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** HTTP/2 clients (h2c with prior knowledge) reach the same routes and proxy as HTTP/1.1 clients, on the same port. */
class Http2DownstreamTest {
    @RegisterExtension
    final TestBackend backend = new TestBackend().name("b");

    private GatehouseFixture gatehouse(TestBackend to, String http2) {
        return gatehouse(to, http2, "");
    }

    private GatehouseFixture gatehouse(TestBackend to, String http2, String limits) {
        return GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    http2: { h2c: true %s }
                    limits: { %s }
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ "%s" ]
                """.formatted(http2, limits, to.address()));
    }

    private GatehouseFixture gatehouse() {
        return gatehouse(backend, "");
    }

    static FullHttpRequest get(String path) {
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
        r.headers().set("host", "example.test");
        return r;
    }

    static FullHttpRequest post(String path, byte[] body) {
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path, Unpooled.wrappedBuffer(body));
        r.headers().set("host", "example.test");
        r.headers().setInt("content-length", body.length);
        return r;
    }

    static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aGetOverH2cReachesTheBackendAsHttp11WithHostFromAuthority() {
        try (GatehouseFixture g = gatehouse(); H2Client c = H2Client.connect(g.address())) {
            H2Client.Response r = await(c.send(get("/hello?x=1")));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.text()).isEqualTo("b");
            RecordedRequest seen = backend.takeRequest(Duration.ofSeconds(5));
            assertThat(seen.uri()).isEqualTo("/hello?x=1");
            assertThat(seen.protocolVersion()).isEqualTo("HTTP/1.1");
            assertThat(seen.header("x-forwarded-host")).isEqualTo("example.test");
            assertThat(seen.header("x-forwarded-proto")).isEqualTo("http");
            assertThat(seen.headers().names()).noneMatch(n -> n.toLowerCase().startsWith("x-http2"));
            // no connection-specific fields in an HTTP/2 response
            assertThat(r.headers().contains("connection")).isFalse();
            assertThat(r.headers().contains("keep-alive")).isFalse();
            assertThat(r.headers().contains("transfer-encoding")).isFalse();
            assertThat(g.gatehouse().listeners().get(0).exchangeCount()).isEqualTo(1);
        }
    }

    @Test
    void aPostBodyGoesUpAndAnEchoedBodyComesBackWhole() {
        backend.echo();
        byte[] body = new byte[300_000];
        for (int i = 0; i < body.length; i++) body[i] = (byte) (i * 31);
        try (GatehouseFixture g = gatehouse(); H2Client c = H2Client.connect(g.address())) {
            H2Client.Response r = await(c.send(post("/upload", body)));
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).isEqualTo(body);
            RecordedRequest seen = backend.takeRequest(Duration.ofSeconds(5));
            assertThat(seen.method()).isEqualTo("POST");
            assertThat(seen.bodySize()).isEqualTo(body.length);
        }
    }

    @Test
    void aBodyWithoutContentLengthTravelsChunkedUpstream() {
        backend.countingUploads();
        try (GatehouseFixture g = gatehouse(); H2Client c = H2Client.connect(g.address())) {
            FullHttpRequest p = post("/up", "hello there".getBytes(StandardCharsets.UTF_8));
            p.headers().remove("content-length");
            H2Client.Response r = await(c.send(p));
            assertThat(r.status()).isEqualTo(200);
            RecordedRequest seen = backend.takeRequest(Duration.ofSeconds(5));
            assertThat(seen.header("transfer-encoding")).isEqualTo("chunked");
            assertThat(seen.bodySize()).isEqualTo(11);
        }
    }

    @Test
    void fiftyConcurrentStreamsOnOneConnectionAreAllAnswered() {
        backend.respond(req -> TestResponse.ok("for " + req.path()).delayHeaders(Duration.ofMillis(100)));
        try (GatehouseFixture g = gatehouse(); H2Client c = H2Client.connect(g.address())) {
            List<CompletableFuture<H2Client.Response>> all = new ArrayList<>();
            for (int i = 0; i < 50; i++) all.add(c.send(get("/s" + i)));
            for (int i = 0; i < 50; i++) {
                H2Client.Response r = await(all.get(i));
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.text()).isEqualTo("for /s" + i);
            }
            assertThat(g.gatehouse().listeners().get(0).connectionCount()).isEqualTo(1);
            // served side by side, not one after another: the backend held many connections at once
            assertThat(backend.connectionsAccepted()).isGreaterThan(1);
        }
    }

    @Test
    void aClientThatShutsItsSideEndsItsStreamsAndTheirUpstreamCallsAtOnce() {
        // the endpoint would answer after a minute: only the edge noticing the client left ends the upstream call
        backend.enqueue(TestResponse.ok("late").delayHeaders(Duration.ofMinutes(1)));
        try (GatehouseFixture g = gatehouse(); RawH2 c = RawH2.connect(g.address())) {
            c.headers(1, true, RawH2.get("/slow"));
            backend.takeRequest(Duration.ofSeconds(5));
            io.gatehouse.cluster.Endpoint e = g.gatehouse().cluster("app").endpoints().get(0);
            assertThat(e.inFlight()).isEqualTo(1);
            c.shutdownOutput();
            assertThat(c.closedByPeer(Duration.ofSeconds(10))).as("the edge closes the connection").isTrue();
            // (the test backend reads nothing while it holds its answer, so the edge's side is what shows the cancel)
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(e.inFlight()).as("upstream call cancelled").isZero());
        }
    }

    @Test
    void cookieCrumbsAreJoinedIntoOneHeaderForTheHttp11Hop() {
        try (GatehouseFixture g = gatehouse(); RawH2 c = RawH2.connect(g.address())) {
            c.headers(1, true, new DefaultHttp2Headers().method("GET").scheme("http").authority("a").path("/c")
                    .add("cookie", "a=1").add("cookie", "b=2").add("cookie", "c=3"));
            RawH2.Frame answer = c.awaitAnswer(1, Duration.ofSeconds(5));
            assertThat(answer.type()).isEqualTo(RawH2.HEADERS);
            RecordedRequest seen = backend.takeRequest(Duration.ofSeconds(5));
            assertThat(seen.headers().getAll("cookie")).containsExactly("a=1; b=2; c=3");
        }
    }

    @Test
    void connectionSpecificRequestHeadersResetTheStreamWithProtocolError() {
        try (GatehouseFixture g = gatehouse(); RawH2 c = RawH2.connect(g.address())) {
            c.headers(1, true, RawH2.get("/x").add("connection", "keep-alive"));
            assertThat(c.awaitAnswer(1, Duration.ofSeconds(5))).satisfies(f -> {
                assertThat(f.type()).isEqualTo(RawH2.RST_STREAM);
                assertThat(f.errorCode()).isEqualTo(0x1); // PROTOCOL_ERROR
            });
            c.headers(3, true, RawH2.get("/x").add("te", "gzip"));
            assertThat(c.awaitAnswer(3, Duration.ofSeconds(5)).errorCode()).isEqualTo(0x1);
            c.headers(5, true, RawH2.get("/x").add("upgrade", "websocket"));
            assertThat(c.awaitAnswer(5, Duration.ofSeconds(5)).errorCode()).isEqualTo(0x1);
            // TE: trailers is the one TE allowed; the connection still serves
            c.headers(7, true, RawH2.get("/ok").add("te", "trailers"));
            assertThat(c.awaitAnswer(7, Duration.ofSeconds(5)).type()).isEqualTo(RawH2.HEADERS);
            assertThat(backend.requestCount()).isEqualTo(1);
        }
    }

    @Test
    void malformedPseudoHeadersResetTheStream() {
        try (GatehouseFixture g = gatehouse(); RawH2 c = RawH2.connect(g.address())) {
            c.headers(1, true, new DefaultHttp2Headers().method("GET").scheme("http").authority("a")); // no :path
            assertThat(c.awaitAnswer(1, Duration.ofSeconds(5)).errorCode()).isEqualTo(0x1);
            c.headers(3, true, new DefaultHttp2Headers().method("GET").scheme("http").path("relative"));
            assertThat(c.awaitAnswer(3, Duration.ofSeconds(5)).errorCode()).isEqualTo(0x1);
            c.headers(5, true, new DefaultHttp2Headers(false).method("GET").scheme("http").path("/a").add(":bogus", "1"));
            assertThat(c.awaitAnswer(5, Duration.ofSeconds(5)).errorCode()).isEqualTo(0x1);
            assertThat(backend.requestCount()).isZero();
        }
    }

    @Test
    void connectOverHttp2IsAnswered405() {
        try (GatehouseFixture g = gatehouse(); RawH2 c = RawH2.connect(g.address())) {
            c.headers(1, false, new DefaultHttp2Headers().method("CONNECT").authority("example.test:443"));
            RawH2.Frame answer = c.awaitAnswer(1, Duration.ofSeconds(5));
            assertThat(answer.type()).isEqualTo(RawH2.HEADERS);
            assertThat(new String(answer.payload(), StandardCharsets.ISO_8859_1)).isNotEmpty();
            assertThat(backend.requestCount()).isZero();
        }
    }

    @Test
    void anHttp11ClientIsServedOnTheSameH2cPort() {
        try (GatehouseFixture g = gatehouse(); H2Client h2 = H2Client.connect(g.address())) {
            HttpResponse<String> r = g.get("/one");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.version()).isEqualTo(java.net.http.HttpClient.Version.HTTP_1_1);
            assertThat(r.body()).isEqualTo("b");
            // a POST, whose method starts like the preface ("P"), is still HTTP/1.1
            HttpResponse<String> p = g.send(java.net.http.HttpRequest.newBuilder(g.uri("/p"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("x")).build());
            assertThat(p.statusCode()).isEqualTo(200);
            assertThat(await(h2.send(get("/two"))).status()).isEqualTo(200);
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"epoll", "io_uring"})
    void aClientThatResetsBeforeItsProtocolIsKnownIsOneDebugLineNotAWarning(String transport) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(transport.equals("epoll")
                ? io.netty.channel.epoll.Epoll.isAvailable() : io.netty.channel.uring.IoUring.isAvailable(), transport);
        try (LogCapture logs = LogCapture.of(Level.DEBUG, CleartextProtocolDetector.class.getName(), DefaultChannelPipeline.class.getName());
             GatehouseFixture g = GatehouseFixture.start("""
                     server: { transport: %s }
                     listeners:
                       - name: edge
                         address: 127.0.0.1:0
                         http2: { h2c: true }
                         routes: [ { name: all, cluster: app } ]
                     clusters:
                       - name: app
                         endpoints: [ "%s" ]
                     """.formatted(transport, backend.address()))) {
            Listener edge = g.gatehouse().listeners().getFirst();
            try (Socket s = new Socket(g.address().getAddress(), g.address().getPort())) {
                s.getOutputStream().write("PR".getBytes(StandardCharsets.US_ASCII)); // the preface's start: undecided
                s.getOutputStream().flush();
                s.setSoLinger(true, 0); // close with a reset
            }
            if (transport.equals("epoll")) {
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> logs.logged("failed before its protocol was known"));
            }
            // io_uring may see the reset before the connection is active (then no handler hears of it): it must be
            // gone all the same, without a warning
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> edge.connectionCount() == 0);
            assertThat(logs.events()).noneMatch(e -> e.getLevel().isGreaterOrEqual(Level.WARN));
            assertThat(g.get("/after").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void h2cIsOffUnlessEnabled() {
        try (GatehouseFixture g = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ "%s" ]
                """.formatted(backend.address())); RawH2 c = RawH2.connect(g.address())) {
            // the preface is a malformed HTTP/1.1 request there: answered 400 and closed, never HTTP/2
            assertThat(c.await(RawH2.SETTINGS, Duration.ofSeconds(2))).isNull();
            assertThat(c.closedByPeer(Duration.ofSeconds(5))).isTrue();
        }
    }

    @Test
    void aBodyOverTheLimitIsAnswered413ThenTheStreamIsResetWithNoErrorAndTheConnectionGoesOn() {
        backend.countingUploads();
        try (GatehouseFixture g = gatehouse(backend, "", "max_body_size: 1000"); RawH2 c = RawH2.connect(g.address())) {
            c.headers(1, false, RawH2.post("/up"));
            c.data(1, false, new byte[600]);
            c.data(1, false, new byte[600]); // 1200 bytes: over the limit, and the client has not finished
            RawH2.Frame head = c.awaitAnswer(1, Duration.ofSeconds(5));
            assertThat(head.type()).isEqualTo(RawH2.HEADERS);
            assertThat(head.status()).isEqualTo("413");
            // RFC 9113 §8.1: the whole answer first (its DATA ends the stream), then RST_STREAM NO_ERROR
            List<RawH2.Frame> after = new ArrayList<>();
            RawH2.Frame f;
            while ((f = c.next(Duration.ofSeconds(5))) != null && f.type() != -1) {
                if (f.stream() != 1) continue;
                after.add(f);
                if (f.type() == RawH2.RST_STREAM) break;
            }
            assertThat(after).isNotEmpty();
            assertThat(after.get(0).type()).isEqualTo(RawH2.DATA);
            RawH2.Frame reset = after.get(after.size() - 1);
            assertThat(reset.type()).isEqualTo(RawH2.RST_STREAM);
            assertThat(reset.errorCode()).isZero();
            assertThat(after.stream().filter(x -> x.type() == RawH2.DATA).anyMatch(x -> (x.flags() & RawH2.END_STREAM) != 0))
                    .as("the 413's body ends the stream before the reset").isTrue();
            c.headers(3, true, RawH2.get("/next"));
            assertThat(c.awaitAnswer(3, Duration.ofSeconds(5)).status()).isEqualTo("200");
        }
    }

    @Test
    void anUploadManyStreamWindowsLongArrivesWholeAsTheWindowReopens() {
        backend.countingUploads();
        byte[] body = new byte[5 << 20]; // several stream windows: only the WINDOW_UPDATEs sent as it is taken let it through
        for (int i = 0; i < body.length; i++) body[i] = (byte) (i * 7);
        try (GatehouseFixture g = gatehouse(); H2Client c = H2Client.connect(g.address())) {
            H2Client.Response r = await(c.send(post("/big-upload", body)));
            assertThat(r.status()).isEqualTo(200);
            RecordedRequest seen = backend.takeRequest(Duration.ofSeconds(5));
            assertThat(seen.bodySize()).isEqualTo(body.length);
        }
    }

    @Test
    void aStalledStreamDoesNotHoldBackAnotherStreamOnTheSameConnection() {
        backend.respond(req -> req.path().equals("/big") ? TestResponse.ok().generatedBody(8L << 20) : TestResponse.ok("small"));
        try (GatehouseFixture g = gatehouse(); H2Client c = H2Client.connect(g.address())) {
            H2Client.Stalled big = c.sendStalled(get("/big"));
            // the big response fills its stream's window and stops; the small one on the same connection still flows
            for (int i = 0; i < 5; i++) {
                H2Client.Response small = await(c.send(get("/small" + i)));
                assertThat(small.text()).isEqualTo("small");
            }
            assertThat(big.response()).isNotDone();
            big.resume();
            H2Client.Response r = await(big.response());
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).hasSize(8 << 20);
        }
    }
}
