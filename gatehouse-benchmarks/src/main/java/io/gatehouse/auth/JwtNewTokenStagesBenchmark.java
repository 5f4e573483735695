package io.gatehouse.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
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

import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.Provider;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.util.Date;
import java.util.concurrent.TimeUnit;

/**
 * Where a new RS256 token's time goes, stage by stage, outside the filter: nimbus's parse (Base64URL and JSON of the
 * header), its claims (JSON of the payload into a {@link JWTClaimsSet}), the signature's Base64URL decode, the
 * cache key (SHA-256 of the token), and the RSA verification in ACCP with the key as nimbus decodes it (a JDK
 * {@code RSAPublicKey}, which ACCP translates to a native key on every {@code initVerify}) or translated once by ACCP's
 * own {@link KeyFactory}. {@link JwtAuthBenchmark#newTokenRs256} is the whole path.
 * Run: {@code java -jar gatehouse-benchmarks/target/benchmarks.jar JwtNewTokenStagesBenchmark -prof gc}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class JwtNewTokenStagesBenchmark {
    private String token;
    private SignedJWT parsed;
    private byte[] input;
    private byte[] sig;
    private RSAPublicKey jdkKey;
    private java.security.PublicKey accpKey;
    private Signature accp;
    private MessageDigest sha256;

    @Setup
    public void setUp() throws Exception {
        RSAKey key = new RSAKeyGenerator(2048).keyID("k").generate();
        SignedJWT signed = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k").build(),
                new JWTClaimsSet.Builder().issuer("https://issuer.test").audience("edge-api").subject("app")
                        .expirationTime(new Date(System.currentTimeMillis() + 3_600_000)).claim("scope", "a b").build());
        signed.sign(new RSASSASigner(key));
        token = signed.serialize();
        parsed = SignedJWT.parse(token);
        input = parsed.getSigningInput();
        sig = parsed.getSignature().decode();
        jdkKey = key.toRSAPublicKey();
        Provider p = (Provider) Class.forName("com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider")
                .getField("INSTANCE").get(null);
        accpKey = (java.security.PublicKey) KeyFactory.getInstance("RSA", p).translateKey(jdkKey);
        accp = Signature.getInstance("SHA256withRSA", p);
        sha256 = MessageDigest.getInstance("SHA-256");
    }

    @Benchmark
    public Object parse() throws Exception {
        return SignedJWT.parse(token);
    }

    @Benchmark
    public Object parseAndClaims() throws Exception {
        return SignedJWT.parse(token).getJWTClaimsSet();
    }

    @Benchmark
    public Object signingInputAndSignature() {
        return parsed.getSigningInput().length + parsed.getSignature().decode().length;
    }

    @Benchmark
    public Object signatureBase64() {
        return Base64URL.from(token.substring(token.lastIndexOf('.') + 1)).decode();
    }

    @Benchmark
    public Object cacheKeySha256() {
        return sha256.digest(token.getBytes(StandardCharsets.US_ASCII));
    }

    @Benchmark
    public boolean rsaVerifyJdkKey() throws Exception {
        accp.initVerify(jdkKey);
        accp.update(input);
        return accp.verify(sig);
    }

    @Benchmark
    public boolean rsaVerifyAccpKey() throws Exception {
        accp.initVerify(accpKey);
        accp.update(input);
        return accp.verify(sig);
    }
}
