package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class Http1RequestDecoderTest {
    private static final String NEXT = "GET /next HTTP/1.1\r\nHost: ok\r\n\r\n";

    private static EmbeddedChannel channel() {
        return new EmbeddedChannel(new Http1RequestDecoder(8192, 32768, 100));
    }

    private static ByteBuf bytes(EmbeddedChannel channel, String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        return channel.alloc().directBuffer(b.length).writeBytes(b);
    }

    private static void write(EmbeddedChannel channel, String s) {
        channel.writeInbound(bytes(channel, s));
    }

    /** Drains the inbound queue into one line per message (releasing each), so tests compare plain strings. */
    private static List<String> transcript(EmbeddedChannel channel) {
        List<String> lines = new ArrayList<>();
        for (Object m; (m = channel.readInbound()) != null; ) {
            try {
                lines.add(describe(m));
                if (m instanceof FullHttpRequest full) {
                    // a request without a body comes whole: its end reads as the separate end of the others
                    assertThat(full.content().readableBytes()).isZero();
                    assertThat(full.trailingHeaders().isEmpty()).isTrue();
                    lines.add("LAST");
                }
            } finally {
                ReferenceCountUtil.release(m);
            }
        }
        return lines;
    }

    private static String describe(Object m) {
        if (m instanceof RejectedRequest r) {
            return "REJECT " + r.status().code() + " " + r.reason();
        }
        if (m instanceof HttpRequest r) {
            StringBuilder s = new StringBuilder(r.method() + " " + r.uri() + " " + r.protocolVersion());
            for (Map.Entry<String, String> h : r.headers()) {
                s.append(" | ").append(h.getKey().toLowerCase()).append('=').append(h.getValue());
            }
            return s.toString();
        }
        if (m instanceof LastHttpContent last) {
            assertThat(last.content().readableBytes()).isZero();
            StringBuilder s = new StringBuilder(last == LastHttpContent.EMPTY_LAST_CONTENT ? "LAST" : "LAST+");
            for (Map.Entry<String, String> h : last.trailingHeaders()) {
                s.append(" | ").append(h.getKey().toLowerCase()).append('=').append(h.getValue());
            }
            return s.toString();
        }
        if (m instanceof HttpContent c) {
            return "CONTENT " + c.content().toString(StandardCharsets.ISO_8859_1);
        }
        if (m instanceof ByteBuf b) {
            return "BYTES " + b.toString(StandardCharsets.ISO_8859_1);
        }
        throw new AssertionError("unexpected message " + m);
    }

    /** Joins consecutive CONTENT lines: how a body is cut into chunks depends on how it arrived. */
    private static List<String> mergeContent(List<String> lines) {
        List<String> merged = new ArrayList<>();
        for (String line : lines) {
            int last = merged.size() - 1;
            if (line.startsWith("CONTENT ") && last >= 0 && merged.get(last).startsWith("CONTENT ")) {
                merged.set(last, merged.get(last) + line.substring("CONTENT ".length()));
            } else {
                merged.add(line);
            }
        }
        return merged;
    }

    private static List<String> decode(String input) {
        EmbeddedChannel channel = channel();
        write(channel, input);
        List<String> lines = transcript(channel);
        assertThat(channel.finishAndReleaseAll()).isFalse();
        return lines;
    }

    static Stream<Arguments> malformedHeads() {
        String post = "POST / HTTP/1.1\r\nHost: a\r\n";
        String get = "GET / HTTP/1.1\r\n";
        return Stream.of(
                arguments("te then cl", post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400, "te+cl"),
                arguments("cl then te", post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "te+cl"),
                arguments("cl then bad te", post + "Content-Length: 5\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "te+cl"),
                arguments("equal duplicate cl", post + "Content-Length: 5\r\nContent-Length: 5\r\n\r\n", 400,
                        "duplicate content-length"),
                arguments("cl list", post + "Content-Length: 5, 5\r\n\r\n", 400, "invalid content-length"),
                arguments("cl letters", post + "Content-Length: abc\r\n\r\n", 400, "invalid content-length"),
                arguments("cl plus sign", post + "Content-Length: +5\r\n\r\n", 400, "invalid content-length"),
                arguments("cl negative", post + "Content-Length: -1\r\n\r\n", 400, "invalid content-length"),
                arguments("cl empty", post + "Content-Length:\r\n\r\n", 400, "invalid content-length"),
                arguments("cl hex", post + "Content-Length: 0x10\r\n\r\n", 400, "invalid content-length"),
                arguments("cl inner space", post + "Content-Length: 5 5\r\n\r\n", 400, "invalid content-length"),
                arguments("cl over long max", post + "Content-Length: 9223372036854775808\r\n\r\n", 400,
                        "invalid content-length"),
                arguments("te chunked then gzip", post + "Transfer-Encoding: chunked, gzip\r\n\r\n", 501,
                        "unsupported transfer-encoding"),
                arguments("te gzip", post + "Transfer-Encoding: gzip\r\n\r\n", 501, "unsupported transfer-encoding"),
                arguments("te chunked twice", post + "Transfer-Encoding: chunked, chunked\r\n\r\n", 501,
                        "unsupported transfer-encoding"),
                arguments("te xchunked", post + "Transfer-Encoding: xchunked\r\n\r\n", 501,
                        "unsupported transfer-encoding"),
                arguments("te with parameter", post + "Transfer-Encoding: chunked;q=1\r\n\r\n", 501,
                        "unsupported transfer-encoding"),
                arguments("te nbsp", post + "Transfer-Encoding: chunked\u00a0\r\n\r\n", 501,
                        "unsupported transfer-encoding"),
                arguments("two te fields", post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                        501, "unsupported transfer-encoding"),
                arguments("te fields gzip then chunked",
                        post + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 501,
                        "unsupported transfer-encoding"),
                arguments("te vertical tab", post + "Transfer-Encoding: \u000bchunked\r\n\r\n", 400, "control char"),
                arguments("te form feed", post + "Transfer-Encoding: chunked\f\r\n\r\n", 400, "control char"),
                arguments("te in http/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
                        "te in http/1.0"),
                arguments("obs-fold", get + "Host: a\r\nX: a\r\n b\r\n\r\n", 400, "obs-fold"),
                arguments("obs-fold with tab", get + "Host: a\r\nX: a\r\n\tb\r\n\r\n", 400, "obs-fold"),
                arguments("space before first header", get + " Host: a\r\n\r\n", 400, "obs-fold"),
                arguments("bare CR in request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bare CR"),
                arguments("bare CR as line end", "GET / HTTP/1.1\rHost: a\r\n\r\n", 400, "bare CR"),
                arguments("bare CR in value", get + "Host: a\r\nX: a\rb\r\n\r\n", 400, "bare CR"),
                arguments("bare CR in name", get + "Host: a\r\nX\r: a\r\n\r\n", 400, "bare CR"),
                arguments("CR CR LF", get + "Host: a\r\nX: a\r\r\n\r\n", 400, "bare CR"),
                arguments("CR CR LF as empty line", get + "Host: a\r\n\r\r\n", 400, "bare CR"),
                arguments("NUL in target", "GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "control char"),
                arguments("NUL in value", get + "Host: a\r\nX: a\0b\r\n\r\n", 400, "control char"),
                arguments("NUL in name", get + "Host: a\r\nX\0: a\r\n\r\n", 400, "control char"),
                arguments("DEL in value", get + "Host: a\r\nX: a\u007fb\r\n\r\n", 400, "control char"),
                arguments("tab in target", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400, "control char"),
                arguments("space before colon", get + "Host : a\r\n\r\n", 400, "space before colon"),
                arguments("tab before colon", get + "Host\t: a\r\n\r\n", 400, "space before colon"),
                arguments("space in name", get + "Host: a\r\nX Y: a\r\n\r\n", 400, "space before colon"),
                arguments("empty name", get + "Host: a\r\n: a\r\n\r\n", 400, "empty header name"),
                arguments("non-token name", get + "Host: a\r\nX(a): b\r\n\r\n", 400, "invalid header name"),
                arguments("missing colon", get + "Host: a\r\nXa\r\n\r\n", 400, "missing colon"),
                arguments("non-token method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid method"),
                arguments("leading whitespace", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "leading whitespace"),
                arguments("two spaces after method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "multiple spaces"),
                arguments("two spaces after target", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400, "multiple spaces"),
                arguments("space inside target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid version"),
                arguments("non-ascii target", "GET /\u00e9 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                        "invalid request-target"),
                arguments("relative target", "GET foo HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid request-target"),
                arguments("asterisk with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid request-target"),
                arguments("authority-form with GET", "GET a.com:80 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                        "invalid request-target"),
                arguments("CONNECT origin-form", "CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                        "invalid request-target"),
                arguments("CONNECT without port", "CONNECT a.com HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                        "invalid request-target"),
                arguments("ftp scheme", "GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid request-target"),
                arguments("userinfo", "GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid request-target"),
                arguments("empty authority", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                        "invalid request-target"),
                arguments("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "unsupported version"),
                arguments("HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505, "unsupported version"),
                arguments("HTTP/0.9 version", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505, "unsupported version"),
                arguments("lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", 400, "invalid version"),
                arguments("trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400, "invalid version"),
                arguments("two-digit version", "GET / HTTP/11\r\nHost: a\r\n\r\n", 400, "invalid version"),
                arguments("HTTP/0.9 request", "GET /\r\n\r\n", 400, "missing version"),
                arguments("missing host", get + "X: a\r\n\r\n", 400, "missing host"),
                arguments("two hosts", get + "Host: a\r\nHost: a\r\n\r\n", 400, "duplicate host"),
                arguments("host with space", get + "Host: a b\r\n\r\n", 400, "invalid host"),
                arguments("host with slash", get + "Host: a/b\r\n\r\n", 400, "invalid host"),
                arguments("host with at", get + "Host: u@a\r\n\r\n", 400, "invalid host"),
                arguments("empty host", get + "Host:\r\n\r\n", 400, "invalid host"),
                arguments("host port too big", get + "Host: a:99999\r\n\r\n", 400, "invalid host"),
                arguments("host empty port", get + "Host: a:\r\n\r\n", 400, "invalid host"),
                arguments("host bad port", get + "Host: a:8o\r\n\r\n", 400, "invalid host"),
                arguments("host open ip literal", get + "Host: [::1\r\n\r\n", 400, "invalid host"),
                arguments("too many empty lines", "\r\n\r\n\n\r\n\r\n" + NEXT, 400, "too many empty lines"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedHeads")
    void rejectsMalformedHeadWithoutEmittingAnyRequest(String name, String head, int status, String reason) {
        // A valid request follows each vector: nothing after the rejection may be decoded.
        assertThat(decode(head + NEXT)).containsExactly("REJECT " + status + " " + reason);
    }

    static Stream<Arguments> malformedChunkedBodies() {
        return Stream.of(
                arguments("non-hex size", "zz\r\n", "invalid chunk size"),
                arguments("empty size", "\r\n", "invalid chunk size"),
                arguments("negative size", "-5\r\n", "invalid chunk size"),
                arguments("0x prefix", "0x5\r\n", "invalid chunk size"),
                arguments("17 digits", "10000000000000000\r\n", "invalid chunk size"),
                arguments("16 digits overflowing a long", "8000000000000000\r\n", "invalid chunk size"),
                arguments("size line ending in bare LF", "5\nhello\r\n0\r\n\r\n", "chunk line not CRLF"),
                arguments("size line with bare CR", "5\rX\r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
                arguments("data not followed by CRLF", "5\r\nhelloXX0\r\n\r\n", "missing CRLF after chunk data"),
                arguments("data followed by bare LF", "5\r\nhello\n0\r\n\r\n", "missing CRLF after chunk data"),
                arguments("extension with control char", "5;a=\u0001\r\nhello\r\n0\r\n\r\n",
                        "invalid chunk extension"),
                arguments("extension without name", "5; =x\r\nhello\r\n0\r\n\r\n", "invalid chunk extension"),
                arguments("whitespace after size", "5 \r\nhello\r\n0\r\n\r\n", "invalid chunk extension"),
                arguments("unterminated quoted extension", "5;a=\"x\r\nhello\r\n0\r\n\r\n",
                        "invalid chunk extension"),
                arguments("forbidden trailer", "0\r\nContent-Length: 5\r\n\r\n", "forbidden trailer"),
                arguments("trailer ending in bare LF", "0\r\nX: a\n\r\n", "chunk line not CRLF"),
                arguments("last empty line bare LF", "0\r\n\n", "chunk line not CRLF"),
                arguments("folded trailer", "0\r\nX: a\r\n b\r\n\r\n", "obs-fold"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedChunkedBodies")
    void rejectsMalformedChunkedBodyAfterTheHead(String name, String body, String reason) {
        List<String> lines = decode("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + body + NEXT);
        assertThat(lines.get(0)).isEqualTo("POST /up HTTP/1.1 | host=a | transfer-encoding=chunked");
        assertThat(lines.get(lines.size() - 1)).isEqualTo("REJECT 400 " + reason);
        assertThat(lines.subList(1, lines.size() - 1)).allMatch(l -> l.startsWith("CONTENT "));
    }

    @Test
    void decodesGetAsOneFullRequest() {
        EmbeddedChannel channel = channel();
        write(channel, "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: t\r\n"
                + "X-Custom:  spaced value \t\r\nAccept: */*\r\n\r\n");
        HttpRequest request = channel.readInbound();
        assertThat(request.method()).isSameAs(HttpMethod.GET);
        assertThat(request.protocolVersion()).isSameAs(HttpVersion.HTTP_1_1);
        assertThat(request.uri()).isEqualTo("/index.html?q=1");
        assertThat(request.headers().get(HttpHeaderNames.HOST)).isEqualTo("example.com:8080");
        assertThat(request.headers().get("x-custom")).isEqualTo("spaced value");
        assertThat(request.headers().names()).hasSize(4);
        assertThat(request.decoderResult().isSuccess()).isTrue();
        assertThat(request).isInstanceOf(FullHttpRequest.class);
        assertThat(((FullHttpRequest) request).content().readableBytes()).isZero();
        assertThat((Object) channel.readInbound()).isNull(); // no separate end: one message per bodiless request
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void decodesPostWithContentLength() {
        assertThat(decode("POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world"))
                .containsExactly("POST /form HTTP/1.1 | host=a | content-length=11", "CONTENT hello world", "LAST");
    }

    @Test
    void decodesZeroContentLengthAsNoBody() {
        assertThat(decode("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"))
                .containsExactly("POST / HTTP/1.1 | host=a | content-length=0", "LAST");
    }

    @Test
    void decodesChunkedBodyWithExtensionsAndTrailers() {
        List<String> lines = decode("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;name=value;flag\r\nhello\r\n"
                + "6 ; q=\"a \\\" ;b\"\r\n world\r\n"
                + "A\r\n0123456789\r\n"
                + "0\r\nChecksum: abc\r\nX-Trace:  t1 \r\n\r\n");
        assertThat(mergeContent(lines)).containsExactly(
                "POST / HTTP/1.1 | host=a | transfer-encoding=chunked",
                "CONTENT hello world0123456789",
                "LAST+ | checksum=abc | x-trace=t1");
    }

    @Test
    void decodesChunkedBodyWithoutTrailersAsEmptyLastContent() {
        assertThat(decode("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  CHUNKED \r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
                .containsExactly("POST / HTTP/1.1 | host=a | transfer-encoding=CHUNKED", "CONTENT abc", "LAST");
    }

    @Test
    void decodesHeadRequest() {
        assertThat(decode("HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n")).containsExactly("HEAD /x HTTP/1.1 | host=a", "LAST");
    }

    @Test
    void acceptsHttp10WithoutHost() {
        assertThat(decode("GET / HTTP/1.0\r\n\r\n")).containsExactly("GET / HTTP/1.0", "LAST");
    }

    @Test
    void acceptsContentLengthOfLongMax() {
        assertThat(decode("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\nabc"))
                .containsExactly("POST / HTTP/1.1 | host=a | content-length=9223372036854775807", "CONTENT abc");
    }

    @Test
    void acceptsHostForms() {
        assertThat(decode("GET / HTTP/1.1\r\nHost: [::1]:443\r\n\r\n")).first().isEqualTo("GET / HTTP/1.1 | host=[::1]:443");
        assertThat(decode("GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n")).first().isEqualTo("GET / HTTP/1.1 | host=10.0.0.1");
        assertThat(decode("GET / HTTP/1.1\r\nHost: my-host.example_%41\r\n\r\n")).first()
                .isEqualTo("GET / HTTP/1.1 | host=my-host.example_%41");
    }

    @Test
    void decodesThreePipelinedRequestsFromOneBuffer() {
        assertThat(decode("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
                + "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n"))
                .containsExactly("GET /1 HTTP/1.1 | host=a", "LAST",
                        "POST /2 HTTP/1.1 | host=a | content-length=3", "CONTENT abc", "LAST",
                        "GET /3 HTTP/1.1 | host=a", "LAST");
    }

    @Test
    void decodesIdenticallyWhenFedOneByteAtATime() {
        String input = "\r\nGET /1?a=b HTTP/1.1\nHost: a\nAccept: */*\n\n"
                + "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                + "PUT /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "4;x=\"y\"\r\nabcd\r\n2\r\nef\r\n0\r\nT: 1\r\n\r\n"
                + "GET http://b.example/p HTTP/1.1\r\nHost: a\r\n\r\n";
        List<String> whole = decode(input);
        EmbeddedChannel channel = channel();
        for (int i = 0; i < input.length(); i++) {
            write(channel, input.substring(i, i + 1));
        }
        List<String> byteByByte = transcript(channel);
        assertThat(channel.finishAndReleaseAll()).isFalse();
        assertThat(mergeContent(byteByByte)).isEqualTo(mergeContent(whole)).hasSize(10);
    }

    @Test
    void rewritesAbsoluteFormToOriginFormAndLetsItsAuthorityReplaceHost() {
        assertThat(decode("GET HTTP://Target.example:8443/p?q=1 HTTP/1.1\r\nHost: other\r\n\r\n"))
                .containsExactly("GET /p?q=1 HTTP/1.1 | host=Target.example:8443", "LAST");
        assertThat(decode("GET https://t.example?q HTTP/1.1\r\nHost: t.example\r\n\r\n"))
                .containsExactly("GET /?q HTTP/1.1 | host=t.example", "LAST");
        assertThat(decode("GET http://t.example HTTP/1.0\r\n\r\n"))
                .containsExactly("GET / HTTP/1.0 | host=t.example", "LAST");
    }

    @Test
    void acceptsAsteriskFormForOptions() {
        assertThat(decode("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")).containsExactly("OPTIONS * HTTP/1.1 | host=a", "LAST");
    }

    @Test
    void skipsUpToFourLeadingEmptyLinesAndAcceptsBareLf() {
        assertThat(decode("\r\n\n\r\n\r\nGET / HTTP/1.1\nHost: a\n\n"))
                .containsExactly("GET / HTTP/1.1 | host=a", "LAST");
    }

    @Test
    void acceptsUriOfExactlyMaxLengthAndRejectsOneMore() {
        String uri = "/" + "a".repeat(31);
        assertThat(decodeWithLimits("GET " + uri + " HTTP/1.1\r\nHost: a\r\n\r\n"))
                .containsExactly("GET " + uri + " HTTP/1.1 | host=a", "LAST");
        assertThat(decodeWithLimits("GET " + uri + "a HTTP/1.1\r\nHost: a\r\n\r\n"))
                .containsExactly("REJECT 414 uri too long");
    }

    @Test
    void rejectsRequestLineOverflowBeforeItsEndArrives() {
        // 32 + 64 bytes allowed for the whole request line; no LF yet.
        assertThat(decodeWithLimits("GET /" + "a".repeat(91))).containsExactly("REJECT 414 request line too long");
        assertThat(decodeWithLimits("GET /" + "a".repeat(90))).isEmpty();
    }

    @Test
    void acceptsHeaderSectionOfExactlyMaxSizeAndRejectsOneMore() {
        // "Host: a\r\n" is 9 bytes, "X: " + pad + "\r\n" is 5 + pad: 256 in total with a pad of 242.
        String exact = "GET / HTTP/1.1\r\nHost: a\r\nX: " + "p".repeat(242) + "\r\n\r\n";
        assertThat(decodeWithLimits(exact)).hasSize(2).last().isEqualTo("LAST");
        String over = "GET / HTTP/1.1\r\nHost: a\r\nX: " + "p".repeat(243) + "\r\n\r\n";
        assertThat(decodeWithLimits(over)).containsExactly("REJECT 431 headers too large");
        // Also when the oversized line has not ended yet.
        assertThat(decodeWithLimits("GET / HTTP/1.1\r\nHost: a\r\nX: " + "p".repeat(300)))
                .containsExactly("REJECT 431 headers too large");
    }

    @Test
    void acceptsExactlyMaxHeadersAndRejectsOneMore() {
        String four = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n";
        assertThat(decodeWithLimits(four + "\r\n")).hasSize(2);
        assertThat(decodeWithLimits(four + "D: 4\r\n\r\n")).containsExactly("REJECT 431 too many headers");
    }

    private static List<String> decodeWithLimits(String input) {
        EmbeddedChannel channel = new EmbeddedChannel(new Http1RequestDecoder(32, 256, 4));
        write(channel, input);
        List<String> lines = transcript(channel);
        assertThat(channel.finishAndReleaseAll()).isFalse();
        return lines;
    }

    @Test
    void streamsLargeBodyAsItArrivesWithoutAggregating() {
        EmbeddedChannel channel = channel();
        String part = "x".repeat(16 * 1024);
        write(channel, "POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: " + 4 * part.length() + "\r\n\r\n" + part);
        assertThat(transcript(channel)).containsExactly(
                "POST /big HTTP/1.1 | host=a | content-length=65536", "CONTENT " + part);
        write(channel, part);
        write(channel, part);
        assertThat(transcript(channel)).containsExactly("CONTENT " + part, "CONTENT " + part);
        write(channel, part + NEXT);
        assertThat(transcript(channel)).containsExactly("CONTENT " + part, "LAST", "GET /next HTTP/1.1 | host=ok", "LAST");
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void emitsChunkDataBeforeTheChunkIsComplete() {
        EmbeddedChannel channel = channel();
        write(channel, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabcd");
        assertThat(transcript(channel)).containsExactly(
                "POST / HTTP/1.1 | host=a | transfer-encoding=chunked", "CONTENT abcd");
        write(channel, "efghijklmnop\r\n0\r\n\r\n");
        assertThat(transcript(channel)).containsExactly("CONTENT efghijklmnop", "LAST");
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void passesBytesAfterAnUpgradeRequestOnAsRawBuffersOnceTheDecoderIsRemoved() {
        Http1RequestDecoder decoder = new Http1RequestDecoder(8192, 32768, 100);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        write(channel, "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
                + "\u0081\u0085frame GET / HTTP/1.1\r\n");
        assertThat(transcript(channel)).containsExactly(
                "GET /ws HTTP/1.1 | host=a | connection=Upgrade | upgrade=websocket", "LAST");
        write(channel, "more");
        assertThat(transcript(channel)).isEmpty();
        channel.pipeline().remove(decoder);
        assertThat(mergeBytes(transcript(channel))).isEqualTo("BYTES \u0081\u0085frame GET / HTTP/1.1\r\nmore");
        write(channel, "tunnel");
        assertThat(transcript(channel)).containsExactly("BYTES tunnel");
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    private static String mergeBytes(List<String> lines) {
        assertThat(lines).allMatch(l -> l.startsWith("BYTES "));
        return "BYTES " + String.join("", lines.stream().map(l -> l.substring("BYTES ".length())).toList());
    }

    @Test
    void holdsBytesAfterConnectUntilRemoved() {
        Http1RequestDecoder decoder = new Http1RequestDecoder(8192, 32768, 100);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        write(channel, "CONNECT db.example:5432 HTTP/1.1\r\nHost: db.example:5432\r\n\r\n\u0016\u0003\u0001");
        assertThat(transcript(channel)).containsExactly(
                "CONNECT db.example:5432 HTTP/1.1 | host=db.example:5432", "LAST");
        channel.pipeline().remove(decoder);
        assertThat(transcript(channel)).containsExactly("BYTES \u0016\u0003\u0001");
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void resumesParsingHeldBytesWhenTheUpgradeIsRefused() {
        Http1RequestDecoder decoder = new Http1RequestDecoder(8192, 32768, 100);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        write(channel, "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n" + NEXT);
        assertThat(transcript(channel)).containsExactly("GET / HTTP/1.1 | host=a | upgrade=h2c", "LAST");
        decoder.resume();
        assertThat(transcript(channel)).containsExactly("GET /next HTTP/1.1 | host=ok", "LAST");
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void honoursSingleDecodeOneRequestPerRead() {
        Http1RequestDecoder decoder = new Http1RequestDecoder(8192, 32768, 100);
        decoder.setSingleDecode(true);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        write(channel, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(transcript(channel)).containsExactly("GET /1 HTTP/1.1 | host=a", "LAST");
        write(channel, "");
        assertThat(transcript(channel)).containsExactly("GET /2 HTTP/1.1 | host=a", "LAST");
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void discardsEverythingAfterARejectionAcrossReads() {
        EmbeddedChannel channel = channel();
        write(channel, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
        assertThat(transcript(channel)).containsExactly("REJECT 400 duplicate host");
        write(channel, NEXT);
        assertThat(transcript(channel)).isEmpty();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }
}
