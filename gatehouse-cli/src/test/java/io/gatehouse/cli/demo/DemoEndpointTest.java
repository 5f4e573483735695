package io.gatehouse.cli.demo;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

class DemoEndpointTest {
    private final HttpClient client = HttpClient.newHttpClient();
    private DemoEndpoint endpoint;

    @AfterEach
    void stop() {
        if (endpoint != null) endpoint.close();
        client.close();
    }

    @Test
    void answersWithItsNamePortPathAndRequestId() throws Exception {
        endpoint = DemoEndpoint.start("demo-2", "127.0.0.1", 0);

        HttpResponse<String> response = client.send(
                HttpRequest.newBuilder(uri("/hello?x=1")).header("X-Request-Id", "abc-123").build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(response.headers().firstValue("x-endpoint")).hasValue("demo-2");
        assertThat(response.body()).isEqualTo("{\"endpoint\":\"demo-2\",\"port\":" + endpoint.address().getPort()
                + ",\"path\":\"/hello\",\"request_id\":\"abc-123\"}\n");
    }

    @Test
    void switchesOffAndOnOverHttp() throws Exception {
        endpoint = DemoEndpoint.start("demo-1", "127.0.0.1", 0);
        assertThat(get("/health").statusCode()).isEqualTo(200);

        assertThat(post("/down").statusCode()).isEqualTo(200);
        assertThat(endpoint.isUp()).isFalse();
        assertThat(get("/health").statusCode()).isEqualTo(503);
        assertThat(get("/").statusCode()).isEqualTo(503);

        assertThat(post("/up").statusCode()).isEqualTo(200);
        assertThat(endpoint.isUp()).isTrue();
        assertThat(get("/health").statusCode()).isEqualTo(200);
        assertThat(get("/").body()).contains("\"endpoint\":\"demo-1\"");
    }

    @Test
    void fallsBackToAFreePortWhenThePreferredOneIsTaken() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            endpoint = DemoEndpoint.start("demo-3", "127.0.0.1", taken.getLocalPort());

            assertThat(endpoint.address().getPort()).isNotEqualTo(taken.getLocalPort()).isPositive();
        }
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + endpoint.address().getPort() + path);
    }
}
