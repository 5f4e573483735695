package io.gatehouse.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/** Which TLS implementation serves: BoringSSL through netty-tcnative when it loads, else the JDK's. */
public final class TlsProvider {
    private static final Logger log = LoggerFactory.getLogger(TlsProvider.class);
    private static final AtomicBoolean announced = new AtomicBoolean();

    /** TLS 1.3 suites (fixed by the protocol, all AEAD). */
    static final List<String> TLS13_CIPHERS = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");

    /** TLS 1.2 suites offered by default: forward secret (ECDHE) and AEAD only, the Mozilla "intermediate" set. */
    static final List<String> TLS12_CIPHERS = List.of(
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private TlsProvider() {}

    /** {@code auto}, {@code openssl} or {@code jdk} to Netty's provider; {@code openssl} fails when it cannot load. */
    public static SslProvider select(io.gatehouse.config.TlsProviderChoice configured) {
        SslProvider chosen = switch (configured) {
            case JDK -> SslProvider.JDK;
            case OPENSSL -> {
                if (!OpenSsl.isAvailable()) {
                    throw new IllegalStateException("provider: openssl is not available on this platform: " + OpenSsl.unavailabilityCause());
                }
                yield SslProvider.OPENSSL;
            }
            case AUTO -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        };
        if (announced.compareAndSet(false, true)) {
            log.info("TLS provider: {}", chosen == SslProvider.OPENSSL ? "OpenSSL (" + OpenSsl.versionString() + " via netty-tcnative)"
                    : "JDK " + Runtime.version() + (OpenSsl.isAvailable() ? "" : " (OpenSSL unavailable: " + OpenSsl.unavailabilityCause() + ")"));
        }
        return chosen;
    }

    static String[] protocols(io.gatehouse.config.TlsVersion minVersion) {
        return minVersion == io.gatehouse.config.TlsVersion.TLS_1_3 ? new String[] {"TLSv1.3"} : new String[] {"TLSv1.3", "TLSv1.2"};
    }

    /** The configured TLS 1.2 suites (or the default set) plus the TLS 1.3 ones. */
    static List<String> ciphers(List<String> configured) {
        List<String> twelve = configured.isEmpty() ? TLS12_CIPHERS : configured;
        return java.util.stream.Stream.concat(TLS13_CIPHERS.stream(), twelve.stream()).distinct().toList();
    }
}
