package io.gatehouse.compression;

import com.aayushatharva.brotli4j.Brotli4jLoader;
import com.aayushatharva.brotli4j.decoder.Decoder;
import com.aayushatharva.brotli4j.decoder.DecoderJNI;
import com.aayushatharva.brotli4j.decoder.DirectDecompress;
import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Responses through a route with compression: what is compressed, how, and what is left alone. */
class ResponseCompressionTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final String TEXT = "<p>Gatehouse compresses text that repeats itself. </p>\n".repeat(200);

    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("origin");

    private static GatehouseFixture gatehouse;

    @BeforeAll
    static void start() {
        gatehouse = GatehouseFixture.start("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    compression: {min_size: 1KiB}
                    routes:
                      - {name: plain, match: {path_prefix: /plain}, cluster: app, compression: {enabled: false}}
                      - {name: gzip-only, match: {path_prefix: /gzip-only}, cluster: app, compression: {encodings: [gzip], types: [text/*]}}
                      - name: local
                        match: {path: /local}
                        direct_response: {status: 200, body: "%s", content_type: text/plain}
                      - {name: all, cluster: app}
                clusters:
                  - name: app
                    endpoints: ["%s"]
                """.formatted("local answer that repeats. ".repeat(100), backend.address()));
    }

    @AfterAll
    static void stop() {
        if (gatehouse != null) gatehouse.close();
    }

    private static RawResponse get(String path, String acceptEncoding) {
        try (RawClient c = gatehouse.raw()) {
            c.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n" + (acceptEncoding == null ? "" : "Accept-Encoding: " + acceptEncoding + "\r\n") + "\r\n");
            return c.readResponse(WAIT);
        }
    }

    private static TestResponse html(String body) {
        return TestResponse.ok().header("Content-Type", "text/html; charset=utf-8").body(body);
    }

    @Test
    void gzipRoundTripsWithTheCompressedLengthOrChunked() {
        backend.enqueue(html(TEXT));
        RawResponse r = get("/page", "gzip");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-encoding")).isEqualTo("gzip");
        assertThat(r.header("vary")).isEqualToIgnoringCase("accept-encoding");
        // a body that came whole in one read goes out with its compressed length; one that came in pieces, chunked
        if (r.header("content-length") != null) {
            assertThat(r.header("content-length")).isEqualTo(String.valueOf(r.body().length));
            assertThat(r.header("transfer-encoding")).isNull();
        } else {
            assertThat(r.header("transfer-encoding")).isEqualToIgnoringCase("chunked");
        }
        assertThat(r.body().length).isLessThan(TEXT.length() / 5);
        assertThat(gunzip(r.body())).isEqualTo(TEXT);
    }

    @Test
    void brotliRoundTripsWhenPreferred() {
        assertThat(Brotli4jLoader.isAvailable()).as("brotli native library loads on this machine").isTrue();
        backend.enqueue(html(TEXT).chunked());
        RawResponse r = get("/page", "gzip;q=0.5, br;q=1");
        assertThat(r.header("content-encoding")).isEqualTo("br");
        assertThat(r.body().length).isLessThan(TEXT.length() / 5);
        assertThat(unbrotli(r.body())).isEqualTo(TEXT);
    }

    @ParameterizedTest(name = "Accept-Encoding: {0} -> {1}")
    @CsvSource(delimiter = '|', nullValues = "none", value = {
            "gzip                          | gzip",
            "br                            | br",
            "gzip, br                      | br",
            "br;q=1, gzip;q=0.5            | br",
            "br;q=0.4, gzip;q=0.5          | gzip",
            "br;q=0, gzip                  | gzip",
            "*                             | br",
            "*;q=0.1, gzip                 | gzip",
            "br;q=0, *                     | gzip",
            "*;q=0                         | none",
            "identity                      | none",
            "identity;q=0, deflate         | none",
            "x-gzip                        | gzip",
            "GZIP;Q=0.8                    | gzip",
            "gzip;q=0, br;q=0              | none",
            "gzip;q=abc                    | none",
            "none                          | none",
    })
    void negotiatesTheCodingByQValues(String acceptEncoding, String expected) {
        backend.enqueue(html(TEXT));
        RawResponse r = get("/page", acceptEncoding);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-encoding")).isEqualTo(expected);
        assertThat(r.header("vary")).as("the answer depends on Accept-Encoding either way").isEqualToIgnoringCase("accept-encoding");
        String body = expected == null ? new String(r.body(), StandardCharsets.UTF_8)
                : expected.equals("gzip") ? gunzip(r.body()) : unbrotli(r.body());
        assertThat(body).isEqualTo(TEXT);
    }

    @Test
    void aRouteOfferingGzipOnlyNeverSendsBrotli() {
        backend.enqueue(html(TEXT));
        assertThat(get("/gzip-only/x", "br, gzip;q=0.1").header("content-encoding")).isEqualTo("gzip");
        backend.enqueue(TestResponse.ok().header("Content-Type", "application/json").body("{\"a\":1}".repeat(500)));
        assertThat(get("/gzip-only/json", "gzip").header("content-encoding")).as("json is not in this route's types").isNull();
    }

    @Test
    void leavesOtherTypesSmallBodiesAndRoutesWithoutCompressionAlone() {
        byte[] png = new byte[4096];
        backend.enqueue(TestResponse.ok().header("Content-Type", "image/png").body(png));
        RawResponse image = get("/img.png", "gzip, br");
        assertThat(image.header("content-encoding")).isNull();
        assertThat(image.header("vary")).isNull();
        assertThat(image.header("content-length")).isEqualTo("4096");

        backend.enqueue(html("tiny"));
        RawResponse tiny = get("/tiny", "gzip, br");
        assertThat(tiny.header("content-encoding")).isNull();
        assertThat(tiny.bodyAsString()).isEqualTo("tiny");

        backend.enqueue(html(TEXT));
        RawResponse plain = get("/plain/page", "gzip, br");
        assertThat(plain.header("content-encoding")).isNull();
        assertThat(plain.header("vary")).isNull();
        assertThat(plain.bodyAsString()).isEqualTo(TEXT);
    }

    @Test
    void compressesJsonJavascriptAndSvgByDefault() {
        for (String type : new String[] {"application/json", "application/javascript", "image/svg+xml", "text/css"}) {
            backend.enqueue(TestResponse.ok().header("Content-Type", type).body(TEXT));
            RawResponse r = get("/asset", "gzip");
            assertThat(r.header("content-encoding")).as(type).isEqualTo("gzip");
            assertThat(gunzip(r.body())).isEqualTo(TEXT);
        }
    }

    @Test
    void neverTouchesEncodedRangedNoTransformHeadOrBodylessResponses() {
        backend.enqueue(html(TEXT).header("Content-Encoding", "zstd"));
        RawResponse encoded = get("/enc", "gzip, br");
        assertThat(encoded.header("content-encoding")).isEqualTo("zstd");
        assertThat(encoded.bodyAsString()).isEqualTo(TEXT);

        backend.enqueue(html(TEXT.substring(0, 2000)).statusCode(206).header("Content-Range", "bytes 0-1999/" + TEXT.length()));
        RawResponse ranged = get("/range", "gzip, br");
        assertThat(ranged.status()).isEqualTo(206);
        assertThat(ranged.header("content-encoding")).isNull();
        assertThat(ranged.header("content-length")).isEqualTo("2000");

        backend.enqueue(html(TEXT).header("Cache-Control", "public, no-transform"));
        RawResponse noTransform = get("/nt", "gzip, br");
        assertThat(noTransform.header("content-encoding")).isNull();
        assertThat(noTransform.bodyAsString()).isEqualTo(TEXT);

        backend.enqueue(TestResponse.status(304).header("Content-Type", "text/html").header("ETag", "\"v1\""));
        RawResponse notModified = get("/nm", "gzip, br");
        assertThat(notModified.status()).isEqualTo(304);
        assertThat(notModified.header("content-encoding")).isNull();
        assertThat(notModified.header("etag")).isEqualTo("\"v1\"");

        backend.enqueue(TestResponse.status(204).header("Content-Type", "text/html"));
        RawResponse noContent = get("/nc", "gzip, br");
        assertThat(noContent.status()).isEqualTo(204);
        assertThat(noContent.header("content-encoding")).isNull();

        backend.enqueue(html(TEXT));
        try (RawClient c = gatehouse.raw()) {
            c.send("HEAD /head HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip, br\r\n\r\n");
            RawResponse head = c.readHeadResponse(WAIT);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("content-encoding")).isNull();
            // the same connection stays in sync: nothing was written after the HEAD's head
            backend.enqueue(html(TEXT));
            c.send("GET /after HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n");
            assertThat(gunzip(c.readResponse(WAIT).body())).isEqualTo(TEXT);
        }
    }

    @Test
    void weakensAStrongETagAndKeepsAWeakOne() {
        backend.enqueue(html(TEXT).header("ETag", "\"abc\"").header("Accept-Ranges", "bytes"));
        RawResponse strong = get("/e1", "gzip");
        assertThat(strong.header("etag")).isEqualTo("W/\"abc\"");
        assertThat(strong.header("accept-ranges")).as("ranges of the encoded body are not offered").isNull();

        backend.enqueue(html(TEXT).header("ETag", "W/\"abc\""));
        assertThat(get("/e2", "gzip").header("etag")).isEqualTo("W/\"abc\"");
    }

    @Test
    void keepsAnExistingVaryAndAddsAcceptEncodingOnce() {
        backend.enqueue(html(TEXT).header("Vary", "Origin"));
        RawResponse r = get("/v", "gzip");
        assertThat(r.headers("vary")).containsExactly("Origin", "Accept-Encoding");

        backend.enqueue(html(TEXT).header("Vary", "accept-encoding"));
        assertThat(get("/v2", "gzip").headers("vary")).containsExactly("accept-encoding");
    }

    @Test
    void aLocalAnswerKnownWholeIsCompressedWithItsExactLength() {
        RawResponse r = get("/local", "gzip");
        assertThat(r.header("content-encoding")).isEqualTo("gzip");
        assertThat(r.header("content-length")).isEqualTo(Integer.toString(r.body().length));
        assertThat(gunzip(r.body())).isEqualTo("local answer that repeats. ".repeat(100));
    }

    @Test
    void aStreamingResponseIsNotHeldBackByTheCompressor() {
        // three pieces an hour apart: the first must reach the client decodable while the rest is not even sent (no
        // race against a short interval, which a slow machine could lose)
        backend.enqueue(html(TEXT.substring(0, 3000)).chunked().dripBody(1000, Duration.ofHours(1)));
        try (RawClient c = gatehouse.raw()) {
            c.send("GET /drip HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n");
            byte[] first = c.readRaw(WAIT);
            String head = new String(first, StandardCharsets.ISO_8859_1);
            assertThat(head).containsIgnoringCase("content-encoding: gzip");
            // read until the first piece's text can be decoded from what arrived; a compressor holding it back
            // leaves a read with nothing
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            got.writeBytes(first);
            while (!decodedPrefix(got.toByteArray()).startsWith(TEXT.substring(0, 1000))) {
                byte[] more = c.readRaw(WAIT);
                assertThat(more).as("the first piece, decodable, before the next is sent").isNotEmpty();
                got.writeBytes(more);
            }
        }
    }

    /** What a gzip decoder can produce from the chunked body bytes received so far (the stream may be unfinished). */
    private static String decodedPrefix(byte[] raw) {
        String text = new String(raw, StandardCharsets.ISO_8859_1);
        int bodyStart = text.indexOf("\r\n\r\n");
        if (bodyStart < 0) return "";
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        int at = bodyStart + 4;
        while (true) {
            int lineEnd = text.indexOf("\r\n", at);
            if (lineEnd < 0) break;
            int size = Integer.parseInt(text.substring(at, lineEnd).strip(), 16);
            if (size == 0 || lineEnd + 2 + size > raw.length) break;
            body.write(raw, lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(body.toByteArray()))) {
            byte[] buf = new byte[4096];
            int n;
            while ((n = in.read(buf)) > 0) out.write(buf, 0, n);
        } catch (IOException e) {
            // end of what arrived so far
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    static String gunzip(byte[] body) {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String unbrotli(byte[] body) {
        try {
            DirectDecompress d = Decoder.decompress(body);
            assertThat(d.getResultStatus()).isEqualTo(DecoderJNI.Status.DONE);
            return new String(d.getDecompressedData(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
