package io.gatehouse.config;

import java.util.List;

/**
 * What the proxy tells the cluster about the client.
 *
 * @param trustedProxies CIDRs ({@code 10.0.0.0/8}, {@code ::1/128}) whose X-Forwarded-* / Forwarded values are kept
 *                       and appended to; from anyone else they are replaced
 * @param forwarded      also send RFC 7239 {@code Forwarded}
 * @param xForwarded     add {@code X-Forwarded-For/-Proto/-Host}; when off, a client's own copies are still removed
 *                       unless it is a trusted proxy (then they pass as they came)
 * @param via            add {@code Via: 1.1 gatehouse}
 * @param requestId      propagate {@code X-Request-Id}, generating one when absent
 * @param viaName        the pseudonym in {@code Via}
 */
public record ProxyHeadersConfig(List<String> trustedProxies, boolean forwarded, Boolean xForwarded, Boolean via,
                                 Boolean requestId, String viaName) {
    public static final ProxyHeadersConfig DEFAULT = new ProxyHeadersConfig(null, false, null, null, null, null);

    public ProxyHeadersConfig {
        trustedProxies = trustedProxies == null ? List.of() : List.copyOf(trustedProxies);
        xForwarded = xForwarded == null ? Boolean.TRUE : xForwarded;
        via = via == null ? Boolean.TRUE : via;
        requestId = requestId == null ? Boolean.TRUE : requestId;
        viaName = viaName == null ? "gatehouse" : viaName;
    }
}
