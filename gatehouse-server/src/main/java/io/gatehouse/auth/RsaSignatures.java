package io.gatehouse.auth;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import com.nimbusds.jose.JWSAlgorithm;
import io.netty.util.concurrent.FastThreadLocal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.GeneralSecurityException;
import java.security.Provider;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;

/**
 * RS256/384/512 verification, the whole cost of a token the cache has not seen. Two things make it cheaper than
 * nimbus's {@code RSASSAVerifier} (which looks a {@link Signature} up and decodes the key from the JWK on every
 * token): a {@link Signature} per thread and algorithm, reused; and the RSA arithmetic in Amazon Corretto Crypto
 * Provider (AWS-LC, native) when its library loads here: 2048-bit verification took 23 µs against the JDK's
 * {@code SunRsaSign} 33 µs in {@code RsaVerifyBenchmark} (bench/results/2026-12-04-session13-gateway.md). When it
 * does not load (another OS or CPU), or with {@code -Dgatehouse.rsa.provider=jdk}, the JDK's provider does the work:
 * same answers, pure Java.
 */
final class RsaSignatures {
    private static final Logger log = LoggerFactory.getLogger(RsaSignatures.class);
    private static final String[] NAMES = {"SHA256withRSA", "SHA384withRSA", "SHA512withRSA"};
    private static final Provider NATIVE = nativeProvider();

    private RsaSignatures() {}

    private static Provider nativeProvider() {
        if ("jdk".equalsIgnoreCase(System.getProperty("gatehouse.rsa.provider"))) return null;
        try {
            AmazonCorrettoCryptoProvider p = AmazonCorrettoCryptoProvider.INSTANCE;
            if (p.getLoadingError() != null) {
                log.debug("RSA: Amazon Corretto Crypto Provider unavailable ({}); using the JDK's", p.getLoadingError().toString());
                return null;
            }
            log.info("RSA signatures (JWT RS256/384/512): {} {}", p.getName(), p.getVersionStr());
            return p;
        } catch (LinkageError | RuntimeException e) {
            log.debug("RSA: Amazon Corretto Crypto Provider unavailable ({}); using the JDK's", e.toString());
            return null;
        }
    }

    /** Which provider verifies: for logs and the benchmark record. */
    static String provider() {
        return NATIVE == null ? "SunRsaSign" : NATIVE.getName();
    }

    /** Per thread: [native RS256, RS384, RS512, JDK RS256, RS384, RS512], made on first use. */
    private static final FastThreadLocal<Signature[]> SIGNATURES = new FastThreadLocal<>() {
        @Override
        protected Signature[] initialValue() {
            return new Signature[6];
        }
    };

    /** Whether {@code alg} is one this class verifies (RS256/384/512; PS* stays with nimbus). */
    static boolean handles(JWSAlgorithm alg) {
        return index(alg) >= 0;
    }

    private static int index(JWSAlgorithm alg) {
        if (JWSAlgorithm.RS256.equals(alg)) return 0;
        if (JWSAlgorithm.RS384.equals(alg)) return 1;
        if (JWSAlgorithm.RS512.equals(alg)) return 2;
        return -1;
    }

    /** True when {@code signature} is {@code key}'s over {@code input} with {@code alg}; false for any other outcome. */
    static boolean verify(JWSAlgorithm alg, RSAPublicKey key, byte[] input, byte[] signature) {
        return verify(alg, key, input, input.length, signature);
    }

    /** The same over the first {@code length} bytes of {@code input} (a token's signing input, without a copy). */
    static boolean verify(JWSAlgorithm alg, RSAPublicKey key, byte[] input, int length, byte[] signature) {
        int i = index(alg);
        if (i < 0) throw new IllegalArgumentException("not an RSASSA-PKCS1-v1_5 algorithm: " + alg);
        Signature[] mine = SIGNATURES.get();
        if (NATIVE != null) {
            try {
                Signature s = mine[i];
                if (s == null) s = mine[i] = Signature.getInstance(NAMES[i], NATIVE);
                s.initVerify(key);
                s.update(input, 0, length);
                return s.verify(signature);
            } catch (java.security.InvalidKeyException e) {
                // a key the native provider refuses (an unusual size or exponent): the JDK decides instead
            } catch (GeneralSecurityException | RuntimeException e) {
                return false;
            }
        }
        try {
            Signature s = mine[3 + i];
            if (s == null) s = mine[3 + i] = Signature.getInstance(NAMES[i]);
            s.initVerify(key);
            s.update(input, 0, length);
            return s.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }
}
