package io.gatehouse.files;

import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** examples/static-site.yaml serves examples/site as it says: the index, a fingerprinted asset and its .gz sibling. */
class StaticSiteExampleTest {
    @Test
    void theExampleServesTheExampleSite() throws Exception {
        Path examples = Path.of("..", "examples").toAbsolutePath().normalize();
        Map<String, String> env = Map.of("LISTEN", "127.0.0.1:0", "SITE_ROOT", examples.resolve("site").toString(),
                "API", "127.0.0.1:1", "ADMIN", "off");   // no fixed port a running gatehouse may hold
        GatehouseConfig config = ConfigLoader.load(examples.resolve("static-site.yaml"), env::get);
        Gatehouse g = Gatehouse.start(config);
        try {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();
            String base = "http://127.0.0.1:" + g.listenerAddress("web").getPort();
            HttpResponse<String> home = client.send(HttpRequest.newBuilder(URI.create(base + "/")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(home.statusCode()).isEqualTo(200);
            assertThat(home.body()).isEqualTo(Files.readString(examples.resolve("site/index.html")));
            assertThat(home.headers().firstValue("cache-control")).hasValue("public, max-age=60");
            assertThat(home.headers().firstValue("x-content-type-options")).hasValue("nosniff");

            HttpResponse<byte[]> asset = client.send(HttpRequest.newBuilder(URI.create(base + "/assets/app.3f9a2c1e.js"))
                    .header("accept-encoding", "gzip").timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(asset.headers().firstValue("cache-control")).hasValue("public, max-age=31536000, immutable");
            assertThat(asset.headers().firstValue("content-encoding")).hasValue("gzip");
            assertThat(asset.body()).isEqualTo(Files.readAllBytes(examples.resolve("site/assets/app.3f9a2c1e.js.gz")));

            HttpResponse<String> about = client.send(HttpRequest.newBuilder(URI.create(base + "/about")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(about.statusCode()).isEqualTo(301);
            assertThat(about.headers().firstValue("location")).hasValue("/about/");
        } finally {
            g.shutdown(Duration.ofSeconds(1));
        }
    }
}
