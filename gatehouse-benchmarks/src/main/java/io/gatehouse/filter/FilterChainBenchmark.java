package io.gatehouse.filter;

import io.gatehouse.http.ConnectionInfo;
import io.gatehouse.http.Downstream;
import io.gatehouse.http.HttpExchange;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpVersion;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a chain of filters costs per exchange: the route's action alone against three no-op filters in front of it
 * (each proceeds at once, one {@link FilterChain} step object each). The budget: three no-op filters add at
 * most 0.3 µs per request. One exchange is built once and run through the chain on every invocation (the action does
 * not answer it, so it stays unanswered and reusable): building an exchange costs far more than the chain and its
 * allocation noise hid the difference (session 11: ±800 ns error bars). Three forks, because forks disagreed.
 * Run: {@code java -jar gatehouse-benchmarks/target/benchmarks.jar FilterChainBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(3)
@State(Scope.Thread)
public class FilterChainBenchmark {
    private static final Filter NO_OP = (exchange, chain) -> chain.proceed(exchange);

    private HttpExchange exchange;
    private List<Filter> actionOnly;
    private List<Filter> threeNoOps;
    private Blackhole hole;

    @Setup
    public void setUp(Blackhole blackhole) {
        hole = blackhole;
        EventLoop loop = new EmbeddedChannel().eventLoop(); // inEventLoop() is true: proceed runs inline, as on a loop
        ConnectionInfo info = ConnectionInfo.plain(new InetSocketAddress("10.1.2.3", 52814));
        Downstream downstream = new Downstream() {
            @Override public EventLoop eventLoop() { return loop; }
            @Override public ConnectionInfo connection() { return info; }
            @Override public void requestMoreBody() {}
            @Override public void tunnel(Channel upstream) {}
            @Override public void write(HttpObject message) {}
            @Override public void flush() {}
            @Override public boolean isWritable() { return true; }
            @Override public void abort(String reason) {}
        };
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/products/shoes?page=2");
        exchange = new HttpExchange(downstream, "bench", request, "www.example.com", 0L, null);
        Filter action = (exchange, chain) -> hole.consume(exchange);
        actionOnly = List.of(action);
        threeNoOps = List.of(NO_OP, NO_OP, NO_OP, action);
    }

    @Benchmark
    public void actionOnly() {
        FilterChain.start(actionOnly, exchange);
    }

    @Benchmark
    public void threeNoOpFilters() {
        FilterChain.start(threeNoOps, exchange);
    }
}
