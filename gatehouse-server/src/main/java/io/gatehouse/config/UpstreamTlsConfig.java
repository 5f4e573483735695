package io.gatehouse.config;

import java.util.List;

/**
 * TLS from the proxy to a cluster's endpoints (and its health checks).
 *
 * @param ca             PEM bundle of the CAs endpoint certificates must chain to; default: the system trust store
 * @param serverName     SNI name sent and the name the certificate is verified against; default: the endpoint's host
 * @param verifyHostname check the certificate is for {@code server_name} (default true). Turning it off lets anyone
 *                       with any certificate from a trusted CA impersonate the endpoint
 * @param cert           PEM client certificate chain, for endpoints that require mTLS
 * @param key            PEM private key of {@code cert}
 * @param minVersion     {@code 1.2} (default) or {@code 1.3}
 * @param provider       {@code auto} (default), {@code openssl} or {@code jdk}
 * @param alpn           protocols offered: {@code http/1.1}, or {@code h2} (set by the cluster's {@code protocol: h2})
 */
public record UpstreamTlsConfig(String ca, String serverName, Boolean verifyHostname, String cert, String key,
                                TlsVersion minVersion, TlsProviderChoice provider, List<AlpnProtocol> alpn) {
    public UpstreamTlsConfig {
        verifyHostname = verifyHostname == null ? Boolean.TRUE : verifyHostname;
        if (cert != null && key == null) throw new IllegalArgumentException("key: is required with cert");
        if (key != null && cert == null) throw new IllegalArgumentException("cert: is required with key");
        minVersion = minVersion == null ? TlsVersion.TLS_1_2 : minVersion;
        provider = provider == null ? TlsProviderChoice.AUTO : provider;
        alpn = alpn == null ? List.of(AlpnProtocol.HTTP_1_1) : List.copyOf(alpn);
    }
}
