package io.gatehouse;

import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.testing.RawClient;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Starts a Gatehouse from a YAML string in a test (listeners bind port 0) and talks to it. Close it after the test.
 */
public final class GatehouseFixture implements AutoCloseable {
    private final Gatehouse gatehouse;
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private GatehouseFixture(Gatehouse gatehouse) {
        this.gatehouse = gatehouse;
    }

    /** Parses {@code yaml} (admin is turned off unless the YAML says otherwise) and starts serving it. */
    public static GatehouseFixture start(String yaml) {
        return start(yaml, io.netty.util.concurrent.Ticker.systemTicker());
    }

    /** As {@link #start(String)}, on {@code ticker} (a {@link io.gatehouse.clock.ManualClock} the test moves). */
    public static GatehouseFixture start(String yaml, io.netty.util.concurrent.Ticker ticker) {
        try {
            String withAdmin = yaml.contains("admin:") ? yaml : yaml + "\nadmin:\n  address: \"off\"\n";
            GatehouseConfig config = ConfigLoader.parse(withAdmin, "test.yaml");
            return new GatehouseFixture(Gatehouse.start(config, ticker));
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    public Gatehouse gatehouse() {
        return gatehouse;
    }

    /** The address of the first listener (or the named one). */
    public InetSocketAddress address() {
        return gatehouse.listenerAddress(gatehouse.config().listeners().get(0).name());
    }

    public URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + address().getPort() + pathAndQuery);
    }

    /** GET with the JDK client, 10 s timeout. */
    public HttpResponse<String> get(String pathAndQuery) {
        return send(HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(10)).build());
    }

    public HttpResponse<String> send(HttpRequest request) {
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError("request failed: " + e, e);
        }
    }

    public HttpClient client() {
        return client;
    }

    /** A raw socket to the first listener. */
    public RawClient raw() {
        return RawClient.connect(address());
    }

    @Override
    public void close() {
        gatehouse.shutdown(Duration.ofSeconds(2));
    }
}
