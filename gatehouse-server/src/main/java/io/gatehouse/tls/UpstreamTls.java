package io.gatehouse.tls;

import io.gatehouse.config.AlpnProtocol;
import io.gatehouse.config.HostPort;
import io.gatehouse.config.UpstreamTlsConfig;
import io.netty.channel.Channel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;

import javax.net.ssl.SSLException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

/**
 * TLS from the proxy to a cluster's endpoints. Built once per cluster (off the event loops) and shared by its
 * connection pools and health checker.
 */
public final class UpstreamTls {
    private final UpstreamTlsConfig config;
    private final SslContext context;

    private UpstreamTls(UpstreamTlsConfig config, SslContext context) {
        this.config = config;
        this.context = context;
    }

    /** Null when {@code config} is null (a plain cluster); fails naming the file when a CA or key cannot be used. */
    public static UpstreamTls create(String cluster, UpstreamTlsConfig config) {
        if (config == null) return null;
        try {
            SslContextBuilder b = SslContextBuilder.forClient()
                    .sslProvider(TlsProvider.select(config.provider()))
                    .protocols(TlsProvider.protocols(config.minVersion()))
                    .ciphers(TlsProvider.ciphers(java.util.List.of()), SupportedCipherSuiteFilter.INSTANCE)
                    // Netty 4.2 verifies hostnames by default; say it explicitly both ways
                    .endpointIdentificationAlgorithm(config.verifyHostname() ? "HTTPS" : null)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, AlpnProtocol.ids(config.alpn())));
            if (config.ca() != null) {
                b.trustManager(PemFiles.certificates(Path.of(config.ca())).toArray(new X509Certificate[0]));
            }
            if (config.cert() != null) {
                PemFiles.KeyMaterial km = PemFiles.keyMaterial(Path.of(config.cert()), Path.of(config.key()));
                b.keyManager(km.key(), km.chain().toArray(new X509Certificate[0]));
            }
            return new UpstreamTls(config, b.build());
        } catch (PemFiles.BadFileException | SSLException e) {
            throw new IllegalArgumentException("cluster " + cluster + ": " + e.getMessage(), e);
        }
    }

    /**
     * The SslHandler for a new connection to {@code endpointAddress} ({@code host:port} as configured): SNI and the
     * verified name are {@code server_name}, else the endpoint's host.
     */
    public SslHandler newHandler(Channel ch, String endpointAddress) {
        HostPort hp = HostPort.parse(endpointAddress, false);
        String name = config.serverName() != null ? config.serverName() : hp.host();
        return context.newHandler(ch.alloc(), name, hp.port());
    }

    /** A short reason for a failed handshake: {@code tls_hostname_mismatch}, {@code tls_untrusted_certificate}, or {@code tls_handshake_failed}. */
    public static String reason(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage()).toLowerCase(java.util.Locale.ROOT);
            if (t instanceof CertificateException && (m.contains("subject alternative") || m.contains("hostname") || m.contains("doesn't match"))) {
                return "tls_hostname_mismatch";
            }
        }
        for (Throwable t = cause; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage()).toLowerCase(java.util.Locale.ROOT);
            if (m.contains("unable to find valid certification path") || m.contains("pkix path") || m.contains("certificate_unknown")) {
                return "tls_untrusted_certificate";
            }
        }
        return "tls_handshake_failed";
    }
}
