package io.gatehouse.testing;

import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * One request as a {@link TestBackend} received it.
 *
 * @param method the request method, e.g. {@code "GET"}
 * @param uri the request target exactly as sent, e.g. {@code "/a/b?c=d"}
 * @param protocolVersion e.g. {@code "HTTP/1.1"}
 * @param headers a copy of the request headers (names are case-insensitive)
 * @param body the aggregated body; empty when the backend {@linkplain TestBackend#countingUploads() counts} or
 *     {@linkplain TestBackend#echo() echoes} instead of aggregating
 * @param bodySize the number of body bytes received, in every mode
 * @param bodyCrc32 the CRC32 of the body bytes received, in every mode
 * @param remoteAddress the peer of the connection (the proxy, when testing one)
 * @param connectionId the id of the connection, 1 for the first one this backend accepted; equal ids mean the
 *     client reused a kept-alive connection
 * @param sequenceOnConnection 1 for the first request on its connection, 2 for the second, …
 */
public record RecordedRequest(
        String method,
        String uri,
        String protocolVersion,
        HttpHeaders headers,
        byte[] body,
        long bodySize,
        long bodyCrc32,
        InetSocketAddress remoteAddress,
        long connectionId,
        int sequenceOnConnection) {

    /** The path of {@link #uri()}, without the query string. */
    public String path() {
        int query = uri.indexOf('?');
        return query < 0 ? uri : uri.substring(0, query);
    }

    /** The first value of the header {@code name}, or {@code null}. */
    public String header(String name) {
        return headers.get(name);
    }

    /** The aggregated body decoded as UTF-8. */
    public String bodyAsString() {
        return new String(body, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return method + " " + uri + " " + protocolVersion + " (connection " + connectionId + " #"
                + sequenceOnConnection + ", " + bodySize + " body bytes)";
    }
}
