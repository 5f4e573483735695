package io.gatehouse.compression;

import com.aayushatharva.brotli4j.encoder.Encoder;
import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** gzip/br request bodies decoded for the backend, with a bound on what they may inflate to. */
class RequestDecompressionTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String JSON = "{\"name\":\"gatehouse\",\"tags\":[\"edge\",\"proxy\"]}\n".repeat(300);

    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("origin");

    private static GatehouseFixture gatehouse;

    @BeforeAll
    static void start() {
        com.aayushatharva.brotli4j.Brotli4jLoader.ensureAvailability(); // the test encodes with brotli4j itself
        gatehouse = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - {name: raw, match: {path_prefix: /raw}, cluster: app}
                      - {name: api, cluster: app, decompress_requests: {max_size: 1MiB}}
                clusters:
                  - name: app
                    endpoints: ["%s"]
                """.formatted(backend.address()));
    }

    @AfterAll
    static void stop() {
        if (gatehouse != null) gatehouse.close();
    }

    private static RawResponse post(String path, String encoding, byte[] body) {
        try (RawClient c = gatehouse.raw()) {
            c.send("POST " + path + " HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Encoding: " + encoding
                    + "\r\nContent-Length: " + body.length + "\r\n\r\n");
            c.send(body);
            return c.readResponse(WAIT);
        }
    }

    @Test
    void aGzipBodyReachesTheBackendDecodedAndRechunked() {
        RawResponse r = post("/items", "gzip", gzip(JSON.getBytes(StandardCharsets.UTF_8)));
        assertThat(r.status()).isEqualTo(200);
        RecordedRequest seen = backend.takeRequest(WAIT);
        assertThat(seen.bodyAsString()).isEqualTo(JSON);
        assertThat(seen.header("content-encoding")).isNull();
        assertThat(seen.header("content-length")).isNull();
        assertThat(seen.header("transfer-encoding")).isEqualToIgnoringCase("chunked");
    }

    @Test
    void aBrotliBodyReachesTheBackendDecoded() throws IOException {
        RawResponse r = post("/items", "br", Encoder.compress(JSON.getBytes(StandardCharsets.UTF_8)));
        assertThat(r.status()).isEqualTo(200);
        RecordedRequest seen = backend.takeRequest(WAIT);
        assertThat(seen.bodyAsString()).isEqualTo(JSON);
        assertThat(seen.header("content-encoding")).isNull();
    }

    @Test
    void aRouteWithoutDecompressionPassesTheEncodedBodyAsSent() {
        byte[] encoded = gzip(JSON.getBytes(StandardCharsets.UTF_8));
        assertThat(post("/raw/items", "gzip", encoded).status()).isEqualTo(200);
        RecordedRequest seen = backend.takeRequest(WAIT);
        assertThat(seen.header("content-encoding")).isEqualTo("gzip");
        assertThat(seen.body()).isEqualTo(encoded);
    }

    @Test
    void aZipBombGets413AndTheBackendNeverGetsTheRest() {
        // 64 KiB on the wire, 64 MiB decoded: 64 times the route's 1 MiB bound
        byte[] bomb = gzip(new byte[64 * 1024 * 1024]);
        assertThat(bomb.length).isLessThan(128 * 1024);

        RawResponse r = post("/upload", "gzip", bomb);

        assertThat(r.status()).isEqualTo(413);
        assertThat(r.header("gatehouse-reason")).isEqualTo("decompressed_body_too_large");
        // the upstream request was cut off: the backend never saw a whole request
        assertThat(backend.requestCount()).isZero();
        // and Gatehouse keeps serving
        assertThat(post("/items", "gzip", gzip("{}".getBytes(StandardCharsets.UTF_8))).status()).isEqualTo(200);
    }

    @Test
    void aCorruptBodyGets400() {
        byte[] broken = gzip(JSON.getBytes(StandardCharsets.UTF_8));
        for (int i = 20; i < 40; i++) broken[i] ^= 0x5a;
        RawResponse r = post("/items", "gzip", broken);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.header("gatehouse-reason")).isEqualTo("undecodable_body");
    }

    @Test
    void aTruncatedBodyGets400() {
        byte[] whole = gzip(JSON.getBytes(StandardCharsets.UTF_8));
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 12);
        RawResponse r = post("/items", "gzip", cut);
        assertThat(r.status()).isEqualTo(400);
        assertThat(backend.requestCount()).isZero();
    }

    static byte[] gzip(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
