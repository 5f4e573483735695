package io.gatehouse.auth;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.Signature;
import java.util.concurrent.TimeUnit;

/**
 * The floor under an uncached RS256 token: one {@code SHA256withRSA} verification of a JWT-sized input with a
 * reused {@link Signature} and a prebuilt key, per JCA provider. {@code SunRsaSign} is the JDK's (BigInteger
 * modPow); {@code ACCP} is Amazon Corretto Crypto Provider (AWS-LC, native). The difference between this and
 * {@link JwtAuthBenchmark#newTokenRs256} is what the filter adds around the arithmetic.
 * Run: {@code java -jar gatehouse-benchmarks/target/benchmarks.jar RsaVerifyBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class RsaVerifyBenchmark {
    @Param({"SunRsaSign", "ACCP"})
    public String provider;

    private Signature signature;
    private java.security.PublicKey key;
    private byte[] input;
    private byte[] sig;

    @Setup
    public void setUp() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair pair = g.generateKeyPair();
        input = ("eyJraWQiOiJrIiwiYWxnIjoiUlMyNTYifQ.eyJzdWIiOiJhcHAiLCJhdWQiOiJlZGdlLWFwaSIsInNjb3BlIjoiYSBiIiwiaXNzIjoi"
                + "aHR0cHM6Ly9pc3N1ZXIudGVzdCIsImV4cCI6MTc2NDg5NjQwMH0").getBytes(StandardCharsets.US_ASCII);
        Signature s = Signature.getInstance("SHA256withRSA");
        s.initSign(pair.getPrivate());
        s.update(input);
        sig = s.sign();
        Provider p = provider.equals("ACCP") ? accp() : java.security.Security.getProvider(provider);
        signature = Signature.getInstance("SHA256withRSA", p);
        key = pair.getPublic();
    }

    private static Provider accp() throws Exception {
        return (Provider) Class.forName("com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider")
                .getField("INSTANCE").get(null);
    }

    @Benchmark
    public boolean verify() throws Exception {
        signature.initVerify(key);
        signature.update(input);
        return signature.verify(sig);
    }
}
