package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.util.ReferenceCountUtil;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * {@link Http1RequestDecoder} against Netty's {@link HttpRequestDecoder} (default settings) decoding one request per
 * operation, through an {@link EmbeddedChannel} for both so the pipeline overhead is the same. The input is a pooled
 * direct buffer, as a socket read would give, and every emitted message is released.
 *
 * <p>Run: {@code ./mvnw -B -q -ntp -pl gatehouse-benchmarks -am package -DskipTests && java -jar
 * gatehouse-benchmarks/target/benchmarks.jar Http1RequestDecoderBenchmark}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.allocator.type=pooled", "-Dio.netty.leakDetection.level=disabled"})
public class Http1RequestDecoderBenchmark {
    /** A typical browser navigation, about 400 bytes. */
    static final String BROWSER_GET = """
            GET /products/category/shoes?page=2&sort=price HTTP/1.1\r
            Host: www.example.com\r
            User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r
            Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r
            Accept-Language: en-US,en;q=0.9\r
            Accept-Encoding: gzip, deflate, br\r
            Connection: keep-alive\r
            Cookie: session=abc123def456; theme=dark\r
            Upgrade-Insecure-Requests: 1\r
            \r
            """;

    static final String SMALL_POST = """
            POST /api/v1/links HTTP/1.1\r
            Host: api.example.com\r
            Content-Type: application/json\r
            Content-Length: 38\r
            \r
            {"url":"https://example.org/a/b/c/d"}\n""";

    @Param({"browserGet", "smallPost"})
    public String request;

    @Param({"gatehouse", "netty"})
    public String decoder;

    private EmbeddedChannel channel;
    private ByteBuf input;

    @Setup(Level.Trial)
    public void setUp() {
        byte[] bytes = (request.equals("browserGet") ? BROWSER_GET : SMALL_POST).getBytes(StandardCharsets.ISO_8859_1);
        input = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        channel = new EmbeddedChannel(decoder.equals("gatehouse")
                ? new Http1RequestDecoder(8192, 32768, 100)
                : new HttpRequestDecoder());
        if (decode() < 2) {
            throw new IllegalStateException(decoder + " did not decode " + request);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        channel.finishAndReleaseAll();
        input.release();
    }

    @Benchmark
    public int decode() {
        channel.writeInbound(input.retainedDuplicate());
        int messages = 0;
        for (Object m; (m = channel.readInbound()) != null; ) {
            ReferenceCountUtil.release(m);
            messages++;
        }
        return messages;
    }
}
