package io.gatehouse.cli.launcher;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code ./gatehouse up} as a process, through the launcher, on free ports: the whole system starts, a link created
 * through the edge redirects through the edge, and a real SIGTERM stops everything with exit code 0.
 */
class UpProcessIT {
    @TempDir
    Path dir;

    @Test
    void upServesALinkThroughTheEdgeAndStopsCleanlyOnSigterm() throws Exception {
        try (LaunchedGatehouse up = LaunchedGatehouse.start(dir, Map.of("GATEHOUSE_HOME", dir.resolve("home").toString()),
                "up", "--listen", "127.0.0.1:0", "--listen-tls", "off", "--admin", "off", "--app-ports", "0,0,0");
             HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build()) {
            // the banner's "Try it" names the edge's address
            String edge = up.awaitLine(Pattern.compile("curl -s -X POST (http://\\S+)/api/links"));

            HttpResponse<String> created = client.send(HttpRequest.newBuilder(URI.create(edge + "/api/links"))
                    .timeout(Duration.ofSeconds(10)).header("X-Gatehouse-User", "up-process")
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"target\":\"https://example.com/from-up\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            Matcher code = Pattern.compile("\"code\":\"([^\"]+)\"").matcher(created.body());
            assertThat(code.find()).as(created.body()).isTrue();

            HttpResponse<String> followed = client.send(HttpRequest.newBuilder(URI.create(edge + "/" + code.group(1)))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(followed.statusCode()).isEqualTo(302);
            assertThat(followed.headers().firstValue("location")).hasValue("https://example.com/from-up");

            up.signal("TERM");
            assertThat(up.awaitExit(Duration.ofSeconds(60))).as(up.output()).isZero();
        }
    }
}
