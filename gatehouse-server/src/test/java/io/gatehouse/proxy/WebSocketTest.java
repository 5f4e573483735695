package io.gatehouse.proxy;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** WebSocket through Gatehouse to the TestBackend's {@code /ws} echo, and refused upgrades that stay HTTP. */
class WebSocketTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final String UPGRADE_HEADERS = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("origin");

    private static GatehouseFixture gatehouse;

    @BeforeAll
    static void startGatehouse() {
        gatehouse = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - {name: all, cluster: app}
                clusters:
                  - name: app
                    endpoints: ["%s"]
                """.formatted(backend.address()));
    }

    @AfterAll
    static void stopGatehouse() {
        if (gatehouse != null) gatehouse.close();
    }

    @Test
    void echoesTextAndBinaryMessagesThenClosesWithStatusAndReason() throws Exception {
        Recorder recorder = new Recorder();
        HttpClient client = HttpClient.newHttpClient();
        URI uri = URI.create("ws://127.0.0.1:" + gatehouse.address().getPort() + "/ws");
        WebSocket ws = client.newWebSocketBuilder().connectTimeout(WAIT).buildAsync(uri, recorder).get(5, TimeUnit.SECONDS);

        for (int i = 0; i < 5; i++) {
            ws.sendText("text " + i, true).get(5, TimeUnit.SECONDS);
            ws.sendBinary(ByteBuffer.wrap(new byte[] {(byte) i, 0, (byte) 0xFF, (byte) (i * 7)}), true).get(5, TimeUnit.SECONDS);
        }
        for (int i = 0; i < 5; i++) {
            assertThat(recorder.next()).isEqualTo("text:text " + i);
            assertThat(recorder.next()).isEqualTo("binary:" + i + ",0,-1," + (i * 7));
        }

        ws.sendClose(4000, "done here").get(5, TimeUnit.SECONDS);
        assertThat(recorder.next()).isEqualTo("close:4000 done here");

        RecordedRequest upgrade = backend.takeRequest(WAIT);
        assertThat(upgrade.path()).isEqualTo("/ws");
        assertThat(upgrade.header("upgrade")).isEqualToIgnoringCase("websocket");
        assertThat(upgrade.header("connection")).isEqualToIgnoringCase("upgrade");
        assertThat(upgrade.header("x-forwarded-for")).isEqualTo("127.0.0.1");
    }

    @Test
    void carriesALargeMessageBothWays() throws Exception {
        Recorder recorder = new Recorder();
        URI uri = URI.create("ws://127.0.0.1:" + gatehouse.address().getPort() + "/ws");
        WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(uri, recorder).get(5, TimeUnit.SECONDS);
        String big = "0123456789abcdef".repeat(4096); // 64 KiB: more than one socket read and the write watermark

        ws.sendText(big, true).get(5, TimeUnit.SECONDS);

        assertThat(recorder.next()).isEqualTo("text:" + big);
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
        assertThat(recorder.next()).startsWith("close:1000");
    }

    @ParameterizedTest(name = "backend answers {0}")
    @ValueSource(ints = {200, 404})
    void aRefusedUpgradeLeavesTheConnectionUsableForTheNextRequest(int status) {
        backend.enqueue(TestResponse.status(status).body("no switch"), TestResponse.ok("next one"));
        try (RawClient client = gatehouse.raw()) {
            // both requests in one write: the decoder holds the second one until the switch is refused (resume())
            client.send("GET /not-a-socket HTTP/1.1\r\nHost: a.example\r\n" + UPGRADE_HEADERS + "\r\n"
                    + "GET /after HTTP/1.1\r\nHost: a.example\r\n\r\n");

            RawResponse refused = client.readResponse(WAIT);
            assertThat(refused.status()).isEqualTo(status);
            assertThat(refused.bodyAsString()).isEqualTo("no switch");
            RawResponse next = client.readResponse(WAIT);
            assertThat(next.status()).isEqualTo(200);
            assertThat(next.bodyAsString()).isEqualTo("next one");

            // and the connection still serves requests sent later
            RawResponse later = client.send("GET /later HTTP/1.1\r\nHost: a.example\r\n\r\n").readResponse(WAIT);
            assertThat(later.status()).isEqualTo(200);
        }
        assertThat(backend.requests()).extracting(RecordedRequest::path).containsExactly("/not-a-socket", "/after", "/later");
    }

    /** Collects what the client receives as strings, in order. */
    private static final class Recorder implements WebSocket.Listener {
        private final BlockingQueue<String> received = new LinkedBlockingQueue<>();
        private final StringBuilder text = new StringBuilder();
        private final java.io.ByteArrayOutputStream binary = new java.io.ByteArrayOutputStream();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                received.add("text:" + text);
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            while (data.hasRemaining()) binary.write(data.get());
            if (last) {
                StringBuilder s = new StringBuilder("binary:");
                byte[] bytes = binary.toByteArray();
                for (int i = 0; i < bytes.length; i++) s.append(i == 0 ? "" : ",").append(bytes[i]);
                received.add(s.toString());
                binary.reset();
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            received.add("close:" + statusCode + " " + reason);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            received.add("error:" + error);
        }

        String next() throws InterruptedException {
            String s = received.poll(5, TimeUnit.SECONDS);
            assertThat(s).as("a message within 5 s").isNotNull();
            return s;
        }
    }
}
