package io.gatehouse.route;

import io.netty.handler.codec.http.HttpHeaders;

import java.util.List;

/** The routes of one listener, immutable; the first route that matches wins. Rebuilt and swapped on reload. */
public record RouteTable(List<Route> routes) {
    public RouteTable {
        routes = List.copyOf(routes);
    }

    /** @return the first matching route, or null (the caller answers 404) */
    public Route match(String method, String host, String path, HttpHeaders headers) {
        return match(method, host, path, headers, null);
    }

    /** @param clientCert the client certificate verified in the TLS handshake, or null */
    public Route match(String method, String host, String path, HttpHeaders headers, io.gatehouse.tls.ClientCertificate clientCert) {
        for (Route r : routes) {
            if (r.match().matches(method, host, path, headers, clientCert)) return r;
        }
        return null;
    }
}
