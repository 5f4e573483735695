package io.gatehouse;

import io.gatehouse.testing.TestCertificates;

import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The client protocols a gateway test runs over: HTTP/1.1 in clear, and HTTP/2 over TLS (ALPN h2, the JDK client),
 * as browsers and most API clients speak it. A test class parameterised over these puts {@link #listenerTls()} in
 * its listener and calls through {@link #client()} and {@link #uri}; {@link #version()} is what each answer must say.
 */
public enum Protocol {
    HTTP_1_1, HTTP_2;

    private static TestCertificates.Authority ca;
    private static TestCertificates.PemFiles edge;

    private static synchronized void certificates() {
        if (ca != null) return;
        try {
            Path dir = Files.createTempDirectory("gatehouse-h2-test");
            dir.toFile().deleteOnExit();
            ca = TestCertificates.authority("Gateway test CA");
            edge = ca.issue("edge", "localhost", "127.0.0.1").writeTo(dir, "edge");
            edge.cert().toFile().deleteOnExit();
            edge.key().toFile().deleteOnExit();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The listener's {@code tls:} line (indented for a listener entry), or an empty line for HTTP/1.1 in clear. */
    public String listenerTls() {
        if (this == HTTP_1_1) return "";
        certificates();
        return "tls: {certificates: [{cert: \"" + edge.cert() + "\", key: \"" + edge.key() + "\"}]}";
    }

    /** A client that speaks this protocol to the listener (trusting the test CA for HTTP/2). */
    public HttpClient client() {
        return clientBuilder().build();
    }

    /** The builder behind {@link #client()}, for a test that needs more of the client (a cookie jar, say). */
    public HttpClient.Builder clientBuilder() {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (this == HTTP_1_1) return b.version(HttpClient.Version.HTTP_1_1);
        certificates();
        return b.version(HttpClient.Version.HTTP_2).sslContext(ca.trustingContext());
    }

    public URI uri(int port, String pathAndQuery) {
        return URI.create((this == HTTP_1_1 ? "http://127.0.0.1:" : "https://localhost:") + port + pathAndQuery);
    }

    public HttpClient.Version version() {
        return this == HTTP_1_1 ? HttpClient.Version.HTTP_1_1 : HttpClient.Version.HTTP_2;
    }
}
