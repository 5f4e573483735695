package io.gatehouse.cache;

import io.gatehouse.clock.Clock;
import io.gatehouse.config.CacheConfig;
import io.gatehouse.filter.Filter;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.filter.FilterContext;
import io.gatehouse.http.ConnectionInfo;
import io.gatehouse.http.Downstream;
import io.gatehouse.http.HttpExchange;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What the {@code cache} filter costs per hit, without sockets: one prebuilt GET exchange run through the filter,
 * which finds a fresh 1 KiB response in the memory tier and answers it (key, lookup, the RFC 9111 decision, the
 * response head with {@code Age} and {@code Cache-Status}, metering), its response written to a downstream that only
 * releases it. The target is CPU µs per hit at or below HAProxy's cache in the harness; this is the cache's own
 * share of that. Run: {@code java -jar gatehouse-benchmarks/target/benchmarks.jar CacheHitBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
@State(Scope.Thread)
public class CacheHitBenchmark {
    private HttpExchange exchange;
    private List<Filter> chain;
    private CacheFilter cache;

    @Setup
    public void setUp(Blackhole hole) {
        EventLoop loop = new EmbeddedChannel().eventLoop();
        ConnectionInfo info = ConnectionInfo.plain(new InetSocketAddress("10.1.2.3", 52814));
        Downstream downstream = new Downstream() {
            @Override public EventLoop eventLoop() { return loop; }
            @Override public ConnectionInfo connection() { return info; }
            @Override public void requestMoreBody() {}
            @Override public void tunnel(Channel upstream) {}
            @Override public void write(HttpObject message) {
                hole.consume(message);
                ReferenceCountUtil.release(message);
            }
            @Override public void flush() {}
            @Override public boolean isWritable() { return true; }
            @Override public void abort(String reason) {}
        };
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/products/shoes?page=2");
        request.headers().set("host", "www.example.com").set("accept-encoding", "gzip, br").set("user-agent", "bench");
        exchange = new HttpExchange(downstream, "bench", request, "www.example.com", 0L, null);
        CacheConfig config = new CacheConfig(null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null);
        cache = new CacheFilter(config, new FilterContext("bench", "bench", java.util.Map.of(), null, Clock.system(),
                new SimpleMeterRegistry(), null));
        long now = System.currentTimeMillis();
        var headers = new DefaultHttpHeaders()
                .add("content-type", "text/html; charset=utf-8")
                .add("cache-control", "public, max-age=86400")
                .add("date", HttpDates.format(now))
                .add("etag", "\"v1-1024\"")
                .add("last-modified", HttpDates.format(now - 3_600_000))
                .add("vary", "accept-encoding")
                .add("content-length", "1024");
        String primary = CacheKeys.primary(exchange, config.key());
        List<String> vary = List.of("accept-encoding");
        cache.store().put(primary, new CachedResponse(200, headers, new byte[1024], now, now, "http://www.example.com/products/shoes?page=2",
                vary, CacheKeys.variant(vary, request.headers()), Set.of(), cache.policy));
        Filter action = (ex, next) -> {
            throw new IllegalStateException("a hit never reaches the origin");
        };
        chain = List.of(cache, action);
    }

    @TearDown
    public void tearDown() {
        cache.close();
    }

    @Benchmark
    public void hit() {
        FilterChain.start(chain, exchange);
    }
}
