package io.gatehouse.proxy;

import com.sun.net.httpserver.HttpServer;
import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ProxySmokeTest {
    private final List<HttpServer> servers = new ArrayList<>();
    private Gatehouse gatehouse;

    @AfterEach
    void stop() {
        if (gatehouse != null) gatehouse.close();
        servers.forEach(s -> s.stop(0));
    }

    private int origin(String name) throws Exception {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        s.createContext("/", x -> {
            byte[] body = (name + " " + x.getRequestURI() + " xff=" + x.getRequestHeaders().getFirst("X-Forwarded-For")).getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        s.start();
        servers.add(s);
        return s.getAddress().getPort();
    }

    @Test
    void proxiesToEveryEndpointInTurn() throws Exception {
        int a = origin("a"), b = origin("b");
        gatehouse = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: all
                        cluster: app
                clusters:
                  - name: app
                    endpoints: [ {address: "127.0.0.1:%d"}, {address: "127.0.0.1:%d"} ]
                admin: {address: "off"}
                """.formatted(a, b), "test.yaml"));
        int port = gatehouse.listenerAddress("edge").getPort();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/x?q=1")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("via")).hasValue("1.1 gatehouse");
            bodies.add(r.body());
        }
        assertThat(bodies).anyMatch(s -> s.startsWith("a /x?q=1 xff=127.0.0.1"));
        assertThat(bodies).anyMatch(s -> s.startsWith("b /x?q=1 xff=127.0.0.1"));
    }
}
