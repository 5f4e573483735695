package io.gatehouse.cache;

import io.gatehouse.Gatehouse;
import io.gatehouse.Protocol;
import io.gatehouse.clock.Clock;
import io.gatehouse.config.ConfigLoader;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One Gatehouse for a cache test class run over one {@link Protocol}: the YAML's {@code {tls}} marks where the
 * listener's TLS line goes (HTTP/2 by ALPN), the listener is named {@code edge} and binds port 0. Requests go through
 * the protocol's client, and every answer must say that protocol.
 */
final class CacheEdge implements AutoCloseable {
    final Protocol protocol;
    final Gatehouse gatehouse;
    final HttpClient client;

    private CacheEdge(Protocol protocol, Gatehouse gatehouse) {
        this.protocol = protocol;
        this.gatehouse = gatehouse;
        this.client = protocol.client();
    }

    static CacheEdge start(Protocol p, String yaml, Clock clock) {
        try {
            var config = ConfigLoader.parse(yaml.replace("{tls}", p.listenerTls()), "cache-" + p + ".yaml");
            return new CacheEdge(p, clock == null ? Gatehouse.start(config) : Gatehouse.start(config, clock));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    int port() {
        return gatehouse.listenerAddress("edge").getPort();
    }

    URI uri(String pathAndQuery) {
        return protocol.uri(port(), pathAndQuery);
    }

    /** The same listener under its other name (localhost and 127.0.0.1 are both in the test certificate). */
    URI otherHostUri(String pathAndQuery) {
        String host = protocol == Protocol.HTTP_1_1 ? "localhost" : "127.0.0.1";
        return URI.create((protocol == Protocol.HTTP_1_1 ? "http://" : "https://") + host + ":" + port() + pathAndQuery);
    }

    HttpResponse<String> send(String method, URI uri, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(15))
                .method(method, HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        try {
            HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.version()).isEqualTo(protocol.version());
            return r;
        } catch (Exception e) {
            throw new AssertionError(method + " " + uri + " failed: " + e, e);
        }
    }

    HttpResponse<String> send(String method, String pathAndQuery, String... headers) {
        return send(method, uri(pathAndQuery), headers);
    }

    HttpResponse<String> get(String pathAndQuery, String... headers) {
        return send("GET", pathAndQuery, headers);
    }

    /** The X-Cache of a GET (the routes under test turn {@code x_cache} on). */
    String xCache(String pathAndQuery, String... headers) {
        return header(get(pathAndQuery, headers), "x-cache");
    }

    static String header(HttpResponse<?> r, String name) {
        return r.headers().firstValue(name).orElse(null);
    }

    double counter(String name, String route) {
        var c = gatehouse.telemetry().metrics().registry().find(name).tag("route", route).functionCounter();
        if (c != null) return c.count();
        var plain = gatehouse.telemetry().metrics().registry().find(name).tag("route", route).counter();
        return plain == null ? 0 : plain.count();
    }

    @Override
    public void close() {
        gatehouse.shutdown(Duration.ofSeconds(1));
    }
}
