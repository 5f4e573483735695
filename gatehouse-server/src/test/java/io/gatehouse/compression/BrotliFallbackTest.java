package io.gatehouse.compression;

import io.gatehouse.config.CompressionConfig;
import io.gatehouse.filter.Filter;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.http.Downstream;
import io.gatehouse.http.HttpExchange;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Where the Brotli native library does not load, a route that offers {@code br} answers with gzip when the client also
 * takes gzip, and sends the body as it is when the client takes only {@code br}: never an error, never {@code br}.
 * The filter is told the library is missing (this machine has it), and runs on a real exchange whose client side
 * records what reaches it.
 */
class BrotliFallbackTest {
    private static final String TEXT = "Gatehouse falls back to gzip when Brotli cannot load. ".repeat(100);
    private static final CompressionConfig BR_AND_GZIP = new CompressionConfig(null, List.of("text/plain"), null, null, null, null);
    private static final CompressionConfig BR_ONLY = new CompressionConfig(null, List.of("text/plain"), null, List.of("br"), null, null);

    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final List<HttpObject> written = new ArrayList<>();

    @AfterEach
    void release() {
        for (HttpObject o : written) {
            if (o instanceof HttpContent c) c.release();
        }
        channel.finishAndReleaseAll();
    }

    @ParameterizedTest(name = "Accept-Encoding: {0} -> {1}")
    @CsvSource(delimiter = '|', nullValues = "none", value = {
            "br, gzip                 | gzip",
            "br;q=1, gzip;q=0.1       | gzip",
            "gzip, br                 | gzip",
            "*                        | gzip",
            "br;q=0.9, *;q=0.5        | gzip",
            "br                       | none",
            "br, identity             | none",
            "gzip;q=0, br             | none",
    })
    void negotiatesWithoutBrotliWhenItsLibraryIsMissing(String acceptEncoding, String expected) {
        assertThat(new ResponseCompression(BR_AND_GZIP, false).coding(acceptEncoding)).isEqualTo(expected);
    }

    @Test
    void prefersBrotliWhenItsLibraryLoaded() {
        // the same route and header with the library present: what the fallback above changes
        assertThat(new ResponseCompression(BR_AND_GZIP, true).coding("br, gzip")).isEqualTo("br");
        assertThat(new ResponseCompression(BR_ONLY, true).coding("br")).isEqualTo("br");
    }

    @Test
    void aRouteOfferingOnlyBrotliOffersNothingWithoutItsLibrary() {
        ResponseCompression compression = new ResponseCompression(BR_ONLY, false);

        assertThat(compression.coding("br, gzip")).isNull();
        assertThat(compression.coding("*")).isNull();
    }

    @Test
    void aWholeResponseIsGzippedForBrAndGzip() throws IOException {
        answer(new ResponseCompression(BR_AND_GZIP, false), "br, gzip", this::wholeText);

        HttpResponse head = head();
        assertThat(head.status()).isEqualTo(HttpResponseStatus.OK);
        assertThat(head.headers().get(HttpHeaderNames.CONTENT_ENCODING)).isEqualTo("gzip");
        assertThat(head.headers().get(HttpHeaderNames.VARY)).isEqualToIgnoringCase("accept-encoding");
        byte[] body = body();
        assertThat(head.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(body.length);
        assertThat(gunzip(body)).isEqualTo(TEXT);
    }

    @Test
    void aStreamedResponseIsGzippedForBrAndGzip() throws IOException {
        answer(new ResponseCompression(BR_AND_GZIP, false), "br, gzip", this::streamedText);

        HttpResponse head = head();
        assertThat(head.headers().get(HttpHeaderNames.CONTENT_ENCODING)).isEqualTo("gzip");
        assertThat(head.headers().contains(HttpHeaderNames.CONTENT_LENGTH)).as("the length changed").isFalse();
        assertThat(gunzip(body())).isEqualTo(TEXT);
    }

    @Test
    void aStreamedResponseGoesAsItIsForBrOnly() {
        answer(new ResponseCompression(BR_AND_GZIP, false), "br", this::streamedText);

        HttpResponse head = head();
        assertThat(head.status()).isEqualTo(HttpResponseStatus.OK);
        assertThat(head.headers().contains(HttpHeaderNames.CONTENT_ENCODING)).isFalse();
        assertThat(head.headers().get(HttpHeaderNames.VARY)).isEqualToIgnoringCase("accept-encoding");
        assertThat(head.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(TEXT.length());
        assertThat(new String(body(), StandardCharsets.UTF_8)).isEqualTo(TEXT);
    }

    @Test
    void aWholeResponseGoesAsItIsOnARouteOfferingOnlyBrotli() {
        answer(new ResponseCompression(BR_ONLY, false), "br, gzip", this::wholeText);

        HttpResponse head = head();
        assertThat(head.headers().contains(HttpHeaderNames.CONTENT_ENCODING)).isFalse();
        assertThat(new String(body(), StandardCharsets.UTF_8)).isEqualTo(TEXT);
    }

    // ---- one exchange through the filter ----

    /** Runs {@code compression} then {@code origin} (the route's action) on a GET with this Accept-Encoding. */
    private void answer(ResponseCompression compression, String acceptEncoding, java.util.function.Consumer<io.gatehouse.http.ResponseSink> origin) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/page", Unpooled.EMPTY_BUFFER);
        request.headers().set(HttpHeaderNames.ACCEPT_ENCODING, acceptEncoding);
        HttpExchange exchange = new HttpExchange(new Recording(), "edge", request, "a.example", System.nanoTime(), null);
        Filter action = (ex, chain) -> origin.accept(ex.response());
        FilterChain.start(List.of(compression, action), exchange);
        assertThat(written).as("what reached the client").isNotEmpty();
        assertThat(written.get(written.size() - 1)).isInstanceOf(io.netty.handler.codec.http.LastHttpContent.class);
    }

    private void wholeText(io.gatehouse.http.ResponseSink client) {
        DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer(TEXT, StandardCharsets.UTF_8));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, TEXT.length());
        client.write(r);
        client.flush();
    }

    /** A proxied body: the head, then two pieces, each flushed as an upstream read batch would be. */
    private void streamedText(io.gatehouse.http.ResponseSink client) {
        DefaultHttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, TEXT.length());
        client.write(r);
        int half = TEXT.length() / 2;
        client.write(new DefaultHttpContent(Unpooled.copiedBuffer(TEXT.substring(0, half), StandardCharsets.UTF_8)));
        client.flush();
        client.write(new DefaultLastHttpContent(Unpooled.copiedBuffer(TEXT.substring(half), StandardCharsets.UTF_8)));
        client.flush();
    }

    private HttpResponse head() {
        return (HttpResponse) written.stream().filter(o -> o instanceof HttpResponse).findFirst().orElseThrow();
    }

    private byte[] body() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (HttpObject o : written) {
            if (o instanceof HttpContent c) {
                ByteBuf b = c.content();
                byte[] bytes = new byte[b.readableBytes()];
                b.getBytes(b.readerIndex(), bytes);
                out.writeBytes(bytes);
            }
        }
        return out.toByteArray();
    }

    private static String gunzip(byte[] gz) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The client side of the exchange: keeps what is written to it, in order. */
    private final class Recording implements Downstream {
        @Override public EventLoop eventLoop() { return channel.eventLoop(); }
        @Override public io.gatehouse.http.ConnectionInfo connection() {
            return io.gatehouse.http.ConnectionInfo.plain(new InetSocketAddress("127.0.0.1", 40000));
        }
        @Override public void requestMoreBody() {}
        @Override public void flush() {}
        @Override public boolean isWritable() { return true; }

        @Override
        public void write(HttpObject message) {
            written.add(message);
        }

        @Override
        public void abort(String reason) {
            throw new AssertionError("the response was aborted: " + reason);
        }

        @Override
        public void tunnel(Channel upstream) {
            throw new UnsupportedOperationException();
        }
    }
}
