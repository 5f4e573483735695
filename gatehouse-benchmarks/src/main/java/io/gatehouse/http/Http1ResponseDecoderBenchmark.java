package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpResponseEncoder;
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
 * {@link Http1ClientCodec} (our {@link Http1ResponseDecoder}) against Netty's {@link HttpClientCodec} configured as
 * the proxy configured it ({@code 8192, 64 KiB, 64 KiB, false, false}), decoding one nginx-style response per
 * operation, through an {@link EmbeddedChannel} for both so the pipeline overhead is the same. The input is a pooled
 * direct buffer, as a socket read would give. {@code decode} releases what it decodes; {@code decodeAndEncode} hands
 * it to Netty's {@link HttpResponseEncoder}, as the proxy does toward the client, and releases the encoded bytes:
 * that is where String header values cost most.
 *
 * <p>Run: {@code ./mvnw -B -q -ntp -pl gatehouse-benchmarks -am package -DskipTests && java -jar
 * gatehouse-benchmarks/target/benchmarks.jar Http1ResponseDecoderBenchmark -prof gc}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.allocator.type=pooled", "-Dio.netty.leakDetection.level=disabled"})
public class Http1ResponseDecoderBenchmark {
    /** What nginx answers for a small static file: 9 headers and a 100-byte body. */
    static final String NGINX_200 = """
            HTTP/1.1 200 OK\r
            Server: nginx/1.22.1\r
            Date: Mon, 06 Jan 2025 10:00:00 GMT\r
            Content-Type: text/html\r
            Content-Length: 100\r
            Last-Modified: Mon, 06 Jan 2025 09:00:00 GMT\r
            Connection: keep-alive\r
            ETag: "677b9c50-64"\r
            Accept-Ranges: bytes\r
            Cache-Control: max-age=3600\r
            \r
            """ + "x".repeat(99) + "\n";

    @Param({"gatehouse", "netty"})
    public String decoder;

    private EmbeddedChannel decoding;
    private EmbeddedChannel encoding;
    private ByteBuf input;

    @Setup(Level.Trial)
    public void setUp() {
        byte[] bytes = NGINX_200.getBytes(StandardCharsets.ISO_8859_1);
        input = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        decoding = new EmbeddedChannel(decoder.equals("gatehouse")
                ? new Http1ClientCodec()
                : new HttpClientCodec(8192, 64 * 1024, 64 * 1024, false, false));
        encoding = new EmbeddedChannel(new HttpResponseEncoder());
        if (decode() < 2) {
            throw new IllegalStateException(decoder + " did not decode the response");
        }
        if (decodeAndEncode() < bytes.length - 100) {
            throw new IllegalStateException(decoder + " did not re-encode the response");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        decoding.finishAndReleaseAll();
        encoding.finishAndReleaseAll();
        input.release();
    }

    /** Decodes one response; returns the number of messages. */
    @Benchmark
    public int decode() {
        decoding.writeInbound(input.retainedDuplicate());
        int messages = 0;
        for (Object m; (m = decoding.readInbound()) != null; ) {
            ReferenceCountUtil.release(m);
            messages++;
        }
        return messages;
    }

    /** Decodes one response and re-encodes it; returns the number of bytes encoded. */
    @Benchmark
    public int decodeAndEncode() {
        decoding.writeInbound(input.retainedDuplicate());
        for (Object m; (m = decoding.readInbound()) != null; ) {
            encoding.write(m);
        }
        encoding.flush();
        int bytes = 0;
        for (Object m; (m = encoding.readOutbound()) != null; ) {
            bytes += ((ByteBuf) m).readableBytes();
            ReferenceCountUtil.release(m);
        }
        return bytes;
    }
}
