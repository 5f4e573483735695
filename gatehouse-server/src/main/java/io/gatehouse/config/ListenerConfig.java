package io.gatehouse.config;

import java.util.List;

/**
 * A bound address that accepts HTTP/1.1 connections and matches each request against its routes, in order.
 *
 * @param name         unique name, used in logs and the admin API
 * @param address      host:port to bind ({@code 0.0.0.0:8080}, {@code [::]:8080}, {@code 127.0.0.1:0})
 * @param routes       tried in order; the first match wins; no match is a 404
 * @param limits       request parsing limits (414/431/413)
 * @param timeouts     client-side timeouts
 * @param proxyHeaders what the proxy adds (X-Forwarded-*, Via, X-Request-Id) and whom it trusts
 * @param tls          TLS termination (HTTPS); null: plain HTTP
 * @param compression  response compression for every route that does not set its own; null: none
 * @param http2        HTTP/2 from clients: h2 over TLS (ALPN), h2c with prior knowledge, and its protections
 * @param filters      filters every route of this listener runs first (a route may opt out: inherit_filters: false)
 * @param protocol     what the listener speaks: {@code http} (HTTP/1.1 and HTTP/2; the only one today)
 */
public record ListenerConfig(
        String name,
        String address,
        List<RouteConfig> routes,
        HttpLimitsConfig limits,
        ListenerTimeoutsConfig timeouts,
        ProxyHeadersConfig proxyHeaders,
        TlsConfig tls,
        CompressionConfig compression,
        Http2Config http2,
        List<FilterConfig> filters,
        ListenerProtocol protocol) {

    public ListenerConfig {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("name: is required");
        if (address == null || address.isBlank()) throw new IllegalArgumentException("address: is required");
        routes = routes == null ? List.of() : List.copyOf(routes);
        limits = limits == null ? HttpLimitsConfig.DEFAULT : limits;
        timeouts = timeouts == null ? ListenerTimeoutsConfig.DEFAULT : timeouts;
        proxyHeaders = proxyHeaders == null ? ProxyHeadersConfig.DEFAULT : proxyHeaders;
        http2 = http2 == null ? Http2Config.DEFAULT : http2;
        filters = filters == null ? List.of() : List.copyOf(filters);
        protocol = protocol == null ? ListenerProtocol.HTTP : protocol;
    }

    /** As {@link #ListenerConfig(String, String, List, HttpLimitsConfig, ListenerTimeoutsConfig, ProxyHeadersConfig,
     *  TlsConfig, CompressionConfig, Http2Config, List, ListenerProtocol)}, without listener filters, speaking HTTP. */
    public ListenerConfig(String name, String address, List<RouteConfig> routes, HttpLimitsConfig limits,
                          ListenerTimeoutsConfig timeouts, ProxyHeadersConfig proxyHeaders, TlsConfig tls,
                          CompressionConfig compression, Http2Config http2) {
        this(name, address, routes, limits, timeouts, proxyHeaders, tls, compression, http2, null, null);
    }

    /** A plain HTTP listener without compression, with the default HTTP/2 settings. */
    public ListenerConfig(String name, String address, List<RouteConfig> routes, HttpLimitsConfig limits,
                          ListenerTimeoutsConfig timeouts, ProxyHeadersConfig proxyHeaders) {
        this(name, address, routes, limits, timeouts, proxyHeaders, null, null, null, null, null);
    }

    /** A listener with TLS (or not: null) and no compression. */
    public ListenerConfig(String name, String address, List<RouteConfig> routes, HttpLimitsConfig limits,
                          ListenerTimeoutsConfig timeouts, ProxyHeadersConfig proxyHeaders, TlsConfig tls) {
        this(name, address, routes, limits, timeouts, proxyHeaders, tls, null, null, null, null);
    }

    /** A plain HTTP listener with response compression for its routes. */
    public ListenerConfig(String name, String address, List<RouteConfig> routes, HttpLimitsConfig limits,
                          ListenerTimeoutsConfig timeouts, ProxyHeadersConfig proxyHeaders, CompressionConfig compression) {
        this(name, address, routes, limits, timeouts, proxyHeaders, null, compression, null, null, null);
    }

    /** A plain HTTP listener with these HTTP/2 settings. */
    public ListenerConfig(String name, String address, List<RouteConfig> routes, HttpLimitsConfig limits,
                          ListenerTimeoutsConfig timeouts, ProxyHeadersConfig proxyHeaders, Http2Config http2) {
        this(name, address, routes, limits, timeouts, proxyHeaders, null, null, http2, null, null);
    }
}
