package io.gatehouse.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** RawClient's parser, fed exact bytes by a TestBackend's {@code malformed} responses. */
class RawClientTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @RegisterExtension
    final TestBackend backend = new TestBackend();

    private RawResponse answer(String rawResponse) {
        backend.enqueue(TestResponse.ok().malformed(rawResponse));
        try (RawClient client = RawClient.connect("127.0.0.1", backend.port())) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            return client.readResponse(TIMEOUT);
        }
    }

    @Test
    void parsesChunkedBodiesWithExtensionsAndTrailers() {
        RawResponse response = answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Checksum: 42\r\n\r\n");

        assertThat(response.bodyAsString()).isEqualTo("abcde");
        assertThat(response.trailers()).containsExactly(new RawResponse.Header("X-Checksum", "42"));
        assertThat(response.complete()).isTrue();
    }

    @Test
    void keepsHeaderOrderAndAcceptsBareLineFeeds() {
        RawResponse response = answer("HTTP/1.1 404 Not Found\nB: 1\nA: 2\nB: 3\nContent-Length: 2\n\nno");

        assertThat(response.version()).isEqualTo("HTTP/1.1");
        assertThat(response.status()).isEqualTo(404);
        assertThat(response.reason()).isEqualTo("Not Found");
        assertThat(response.headers()).extracting(RawResponse.Header::name).containsExactly("B", "A", "B",
                "Content-Length");
        assertThat(response.bodyAsString()).isEqualTo("no");
    }

    @Test
    void reportsABodyCutShortByCloseAsIncomplete() {
        RawResponse response = answer("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");

        assertThat(response.complete()).isFalse();
        assertThat(response.bodyAsString()).isEqualTo("abc");
    }

    @Test
    void failsWhenTheConnectionEndsInsideTheHeaders() {
        assertThatThrownBy(() -> answer("HTTP/1.1 200 OK\r\nContent-Le"))
                .isInstanceOf(UncheckedIOException.class);
    }

    @Test
    void readRawReturnsWhatArrivedAndTimesOutOnSilence() {
        backend.enqueue(TestResponse.ok().delayHeaders(Duration.ofSeconds(30)));
        try (RawClient client = RawClient.connect(backend.socketAddress())) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThatThrownBy(() -> client.readRaw(Duration.ofMillis(200)))
                    .hasCauseInstanceOf(SocketTimeoutException.class);
            assertThat(client.isClosedByPeer(Duration.ofMillis(200))).isFalse();
        }
    }
}
