package io.gatehouse.cli.launcher;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@code ./gatehouse run FILE} as a process, through the launcher: it serves the file, reloads it on a real SIGHUP,
 * and on a real SIGTERM stops accepting, answers {@code /ready} with 503 while in-flight requests finish, then exits 0.
 * One process for the class; the tests run in order, the last one stops it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ServeProcessIT {
    @TempDir
    static Path dir;

    private static HeldBackend held;
    private static LaunchedGatehouse gatehouse;
    private static Path file;
    private static String edge;
    private static String admin;

    @BeforeAll
    static void launch() throws Exception {
        held = new HeldBackend();
        file = Files.writeString(dir.resolve("gatehouse.yaml"), config("127.0.0.1:0", "127.0.0.1:0", ""));
        gatehouse = LaunchedGatehouse.start(dir, Map.of(), "run", file.toString());
        edge = "http://" + gatehouse.awaitLine(Pattern.compile("listener edge on (\\S+)"));
        admin = gatehouse.awaitLine(Pattern.compile("admin listening on (http://\\S+)"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (gatehouse != null) gatehouse.close();
        if (held != null) held.close();
    }

    private static String config(String edgeAddress, String adminAddress, String extraRoute) {
        return """
                listeners:
                  - name: edge
                    address: %s
                    routes:
                      - { name: ping, match: { path: /ping }, direct_response: { status: 200, body: pong } }
                      - { name: slow, match: { path: /slow }, cluster: held }
                %s
                clusters:
                  - name: held
                    endpoints: ["%s"]
                admin: { address: "%s" }
                server: { drain_timeout: 60s }
                """.formatted(edgeAddress, extraRoute, held.address(), adminAddress);
    }

    @Test
    @Order(1)
    void servesTheFileAndAnswersLiveAndReady() throws Exception {
        assertThat(gatehouse.get(edge, "/ping").body()).isEqualTo("pong");
        assertThat(gatehouse.get(admin, "/live").statusCode()).isEqualTo(200);
        var ready = gatehouse.get(admin, "/ready");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).contains("\"ready\"");
    }

    @Test
    @Order(2)
    void reloadsTheFileOnSighup() throws Exception {
        assertThat(gatehouse.get(edge, "/v2").statusCode()).isEqualTo(404);
        // the same addresses as bound (a reload keeps listeners whose address is unchanged), plus a route
        Files.writeString(file, config(edge.substring("http://".length()), admin.substring("http://".length()),
                "      - { name: v2, match: { path: /v2 }, direct_response: { status: 200, body: two } }"));

        gatehouse.signal("HUP");

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(gatehouse.get(edge, "/v2").body()).isEqualTo("two"));
        assertThat(gatehouse.get(edge, "/ping").body()).isEqualTo("pong");
        assertThat(gatehouse.isAlive()).isTrue();
    }

    @Test
    @Order(3)
    void drainsOnSigtermWithReadyAt503ThenExitsZero() throws Exception {
        InetSocketAddress edgeAddress = socketAddress(edge);
        try (Socket client = new Socket()) {
            client.connect(edgeAddress, 5_000);
            client.setSoTimeout(60_000);
            client.getOutputStream().write("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = client.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            readUntil(in, got, "hello");   // the request is in flight at the endpoint, half answered

            gatehouse.signal("TERM");

            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                var ready = gatehouse.get(admin, "/ready");
                assertThat(ready.statusCode()).isEqualTo(503);
                assertThat(ready.body()).contains("not ready");
            });
            assertThat(gatehouse.get(admin, "/live").statusCode()).isEqualTo(200);
            assertThatThrownBy(() -> new Socket().connect(edgeAddress, 5_000)).isInstanceOf(ConnectException.class);
            assertThat(gatehouse.isAlive()).isTrue();   // still draining: the request has not finished

            held.release();
            readUntil(in, got, "world");
            String response = got.toString(StandardCharsets.US_ASCII);
            assertThat(response).startsWith("HTTP/1.1 200").endsWith("helloworld");
        }

        assertThat(gatehouse.awaitExit(Duration.ofSeconds(60))).as(gatehouse.output()).isZero();
        assertThat(gatehouse.output()).contains("draining").contains("stopped");
        assertThat(held.requests()).isEqualTo(1);
    }

    private static void readUntil(InputStream in, ByteArrayOutputStream got, String marker) throws IOException {
        byte[] buf = new byte[1024];
        while (!got.toString(StandardCharsets.US_ASCII).contains(marker)) {
            int n = in.read(buf);
            if (n < 0) throw new AssertionError("connection closed before '" + marker + "': " + got);
            got.write(buf, 0, n);
        }
    }

    private static InetSocketAddress socketAddress(String url) {
        String hostPort = url.substring("http://".length());
        int colon = hostPort.lastIndexOf(':');
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }
}
