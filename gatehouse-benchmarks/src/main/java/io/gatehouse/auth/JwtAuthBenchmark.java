package io.gatehouse.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.gatehouse.clock.Clock;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.JwtAuthConfig;
import io.gatehouse.filter.Filter;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.filter.FilterContext;
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
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What the {@code jwt} filter costs per request: no filter, a repeated token (the verified-token cache: a SHA-256
 * and a lookup), and a token never seen (an RS256 signature check). Budget: a repeated token ≤ 1 µs.
 * Run: {@code java -jar gatehouse-benchmarks/target/benchmarks.jar JwtAuthBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class JwtAuthBenchmark {
    private Downstream downstream;
    private List<Filter> none;
    private List<Filter> jwt;
    private List<Filter> jwtUncached;
    private String token;
    private Blackhole hole;

    @Setup
    public void setUp(Blackhole blackhole) throws Exception {
        hole = blackhole;
        EventLoop loop = new EmbeddedChannel().eventLoop();
        ConnectionInfo info = ConnectionInfo.plain(new InetSocketAddress("10.1.2.3", 52814));
        downstream = new Downstream() {
            @Override public EventLoop eventLoop() { return loop; }
            @Override public ConnectionInfo connection() { return info; }
            @Override public void requestMoreBody() {}
            @Override public void tunnel(Channel upstream) {}
            @Override public void write(HttpObject message) { io.netty.util.ReferenceCountUtil.release(message); }
            @Override public void flush() {}
            @Override public boolean isWritable() { return true; }
            @Override public void abort(String reason) {}
        };
        RSAKey key = new RSAKeyGenerator(2048).keyID("k").generate();
        SignedJWT signed = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k").build(),
                new JWTClaimsSet.Builder().issuer("https://issuer.test").audience("edge-api").subject("app")
                        .expirationTime(new Date(System.currentTimeMillis() + 3_600_000)).claim("scope", "a b").build());
        signed.sign(new RSASSASigner(key));
        token = "Bearer " + signed.serialize();
        String jwks = new JWKSet(key.toPublicJWK()).toString(true);
        FilterContext ctx = new FilterContext("bench", "api", java.util.Map.of(),
                new GatehouseConfig(List.of(), List.of(), null, null), Clock.system(), null, null);
        Filter action = (exchange, chain) -> hole.consume(exchange);
        none = List.of(action);
        jwt = List.of(new JwtAuth(config(jwks, null), ctx), action);
        jwtUncached = List.of(new JwtAuth(config(jwks, 0), ctx), action);
    }

    private static JwtAuthConfig config(String jwks, Integer cacheSize) {
        return new JwtAuthConfig("https://issuer.test", List.of("edge-api"), List.of("RS256"), null, jwks, null, null, null,
                null, null, null, null, null, cacheSize, null);
    }

    private HttpExchange exchange() {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/items");
        request.headers().set("authorization", token);
        return new HttpExchange(downstream, "bench", request, "api.example", 0L, null);
    }

    @Benchmark
    public void noFilter() {
        FilterChain.start(none, exchange());
    }

    @Benchmark
    public void repeatedToken() {
        FilterChain.start(jwt, exchange());
    }

    @Benchmark
    public void newTokenRs256() {
        FilterChain.start(jwtUncached, exchange());
    }
}
