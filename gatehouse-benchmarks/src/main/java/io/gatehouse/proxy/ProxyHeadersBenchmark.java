package io.gatehouse.proxy;

import io.gatehouse.config.ProxyHeadersConfig;
import io.gatehouse.http.Downstream;
import io.gatehouse.http.FlatHttpHeaders;
import io.gatehouse.http.HttpExchange;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@link ProxyHeaders#request} and {@link ProxyHeaders#response} on a realistic browser request (9 fields) and a
 * typical origin response (10 fields), with {@link AsciiString} names and values as the decoders build them. Both rewrite headers in place, so every
 * operation first copies a template into fresh headers; {@code copyRequestOnly} / {@code copyResponseOnly} measure
 * that copy alone: ProxyHeaders' own cost is the difference.
 *
 * <p>{@code headers}: {@code flat} ({@link FlatHttpHeaders}, what the decoders make) or {@code netty} (Netty's
 * {@code DefaultHttpHeaders} with validation off, what they made before).
 *
 * <p>{@code config}: {@code defaults} (X-Forwarded-For/-Proto/-Host, Via, a generated X-Request-Id; the client is not
 * a trusted proxy) or {@code trustedForwarded} (the client is a trusted proxy that sent X-Forwarded-For and
 * X-Request-Id, and RFC 7239 {@code Forwarded} is on).
 *
 * <p>Run: {@code ./mvnw -B -q -ntp -pl gatehouse-benchmarks -am package -DskipTests && java -jar
 * gatehouse-benchmarks/target/benchmarks.jar ProxyHeadersBenchmark -prof gc}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.allocator.type=pooled", "-Dio.netty.leakDetection.level=disabled"})
public class ProxyHeadersBenchmark {
    private static final HttpHeadersFactory NETTY_HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);

    @Param({"flat", "netty"})
    public String headers;

    @Param({"defaults", "trustedForwarded"})
    public String config;

    private ProxyHeaders proxyHeaders;
    private HttpHeaders requestTemplate;
    private HttpHeaders responseTemplate;
    private HttpExchange exchange;

    @Setup(Level.Trial)
    public void setUp() {
        boolean trusted = config.equals("trustedForwarded");
        proxyHeaders = new ProxyHeaders(new ProxyHeadersConfig(trusted ? List.of("10.0.0.0/8") : null, trusted, null, null, null, null));

        requestTemplate = fresh();
        add(requestTemplate, HttpHeaderNames.HOST, "www.example.com");
        add(requestTemplate, HttpHeaderNames.USER_AGENT, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36");
        add(requestTemplate, HttpHeaderNames.ACCEPT, "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8");
        add(requestTemplate, HttpHeaderNames.ACCEPT_LANGUAGE, "en-US,en;q=0.9");
        add(requestTemplate, HttpHeaderNames.ACCEPT_ENCODING, "gzip, deflate, br");
        add(requestTemplate, HttpHeaderNames.CONNECTION, "keep-alive");
        add(requestTemplate, HttpHeaderNames.COOKIE, "session=abc123def456; theme=dark");
        add(requestTemplate, HttpHeaderNames.UPGRADE_INSECURE_REQUESTS, "1");
        add(requestTemplate, HttpHeaderNames.CACHE_CONTROL, "max-age=0");
        if (trusted) {
            add(requestTemplate, ProxyHeaders.X_FORWARDED_FOR, "203.0.113.7");
            add(requestTemplate, ProxyHeaders.X_REQUEST_ID, "9f2c1e7a-58b4-4d0e-9a3b-7c61d2e4f805");
        }

        responseTemplate = fresh();
        add(responseTemplate, HttpHeaderNames.SERVER, "nginx/1.22.1");
        add(responseTemplate, HttpHeaderNames.DATE, "Mon, 23 Nov 2026 19:00:00 GMT");
        add(responseTemplate, HttpHeaderNames.CONTENT_TYPE, "text/html; charset=utf-8");
        add(responseTemplate, HttpHeaderNames.CONTENT_LENGTH, "16384");
        add(responseTemplate, HttpHeaderNames.LAST_MODIFIED, "Mon, 23 Nov 2026 18:00:00 GMT");
        add(responseTemplate, HttpHeaderNames.CONNECTION, "keep-alive");
        add(responseTemplate, HttpHeaderNames.ETAG, "\"6560a1b0-4000\"");
        add(responseTemplate, HttpHeaderNames.CACHE_CONTROL, "max-age=3600");
        add(responseTemplate, HttpHeaderNames.VARY, "Accept-Encoding");
        add(responseTemplate, HttpHeaderNames.ACCEPT_RANGES, "bytes");

        // The client: 10.1.2.3 (inside the trusted range for trustedForwarded, an ordinary client otherwise).
        InetSocketAddress client = new InetSocketAddress("10.1.2.3", 52814);
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/products/category/shoes?page=2", requestTemplate);
        exchange = new HttpExchange(new StubDownstream(io.gatehouse.http.ConnectionInfo.plain(client)), "bench", request,
                "www.example.com", 0L, null);
        // Sanity: the rewrite does what the benchmark claims, once, before measuring.
        HttpHeaders h = request();
        if (!h.contains(ProxyHeaders.X_FORWARDED_FOR) || h.contains(HttpHeaderNames.CONNECTION) || !h.contains(HttpHeaderNames.VIA)) {
            throw new IllegalStateException("ProxyHeaders.request did not rewrite the headers: " + h);
        }
    }

    private HttpHeaders fresh() {
        return headers.equals("flat") ? new FlatHttpHeaders() : NETTY_HEADERS.newHeaders();
    }

    private static void add(HttpHeaders h, AsciiString name, String value) {
        h.add(name, new AsciiString(value)); // what Http1RequestDecoder stores
    }

    @Benchmark
    public HttpHeaders copyRequestOnly() {
        return fresh().add(requestTemplate);
    }

    @Benchmark
    public HttpHeaders request() {
        HttpHeaders h = fresh().add(requestTemplate);
        proxyHeaders.request(exchange, h, false);
        return h;
    }

    @Benchmark
    public HttpResponse copyResponseOnly() {
        return new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, fresh().add(responseTemplate));
    }

    @Benchmark
    public HttpResponse response() {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, fresh().add(responseTemplate));
        proxyHeaders.response(r, "0123456789abcdef0123456789abcdef", false);
        return r;
    }

    /** The client side of the exchange: only what ProxyHeaders asks for (the connection's facts). */
    private record StubDownstream(io.gatehouse.http.ConnectionInfo connection) implements Downstream {
        @Override public EventLoop eventLoop() { throw new UnsupportedOperationException(); }
        @Override public void requestMoreBody() { throw new UnsupportedOperationException(); }
        @Override public void write(HttpObject message) { throw new UnsupportedOperationException(); }
        @Override public void flush() { throw new UnsupportedOperationException(); }
        @Override public boolean isWritable() { return true; }
        @Override public void abort(String reason) { throw new UnsupportedOperationException(); }
        @Override public void tunnel(Channel upstream) { throw new UnsupportedOperationException(); }
    }
}
