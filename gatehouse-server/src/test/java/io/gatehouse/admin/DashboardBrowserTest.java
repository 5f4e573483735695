package io.gatehouse.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.assertions.PlaywrightAssertions;
import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;

import static io.gatehouse.Prerequisites.require;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The dashboard in a real browser (Debian's Chromium driven by Playwright) against a running Gatehouse: what the
 * page shows must be what the admin API says, and its buttons must change the running edge. Leaves a full-page
 * screenshot in {@code target/dashboard.png}; with {@code -Dgatehouse.update-screenshots=true} it also refreshes
 * {@code docs/dashboard.png} for the README (not by default, so a test run never changes tracked files).
 */
class DashboardBrowserTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final String TOKEN = "dashboard-test-token";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SHOP_KEY = "dashboard-shop-key";
    private static final String SHOP_KEY_SHA256 = sha256(SHOP_KEY);

    private static String sha256(String s) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @RegisterExtension
    final TestBackend one = new TestBackend().name("one");
    @RegisterExtension
    final TestBackend two = new TestBackend().name("two");
    @RegisterExtension
    final TestBackend three = new TestBackend().name("three");

    private String yaml() {
        return """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: ping
                        match: { path: /ping }
                        direct_response: { status: 200, body: pong }
                      - name: api
                        match: { path_prefix: /api }
                        filters:
                          - cors: { allow_origins: [ "https://app.example" ] }
                        cluster: app
                      - name: keys
                        match: { path_prefix: /keys }
                        cluster: app
                        filters:
                          - api_key: {}
                          - rate_limit: { limits: [{rate: 100/s}, {rate: 1000/h}] }
                      - name: cached
                        match: { path_prefix: /cached }
                        cluster: app
                        filters:
                          - cache: { ttl: { "200": 10m } }
                consumers:
                  - { name: shop, api_keys: [{sha256: "%s"}] }
                metering: { path: "%s" }
                clusters:
                  - name: app
                    endpoints: [ "%s", "%s", "%s" ]
                    health_check: { path: /health, interval: 200ms, timeout: 5s, unhealthy_threshold: 3 }
                admin: { address: "127.0.0.1:0", token: %s }
                """.formatted(SHOP_KEY_SHA256, Path.of("target", "dashboard-metering.jsonl").toAbsolutePath(),
                one.address(), two.address(), three.address(), TOKEN);
    }

    @Test
    void showsTheTopologyAndLiveNumbersOfTheAdminApiAndDrainsAnEndpointFromItsButton() throws Exception {
        require(Files.exists(CHROMIUM),
                "no Chromium at " + CHROMIUM + " (apt-get install chromium; .ci/run does)");
        try (GatehouseFixture g = GatehouseFixture.start(yaml())) {
            String admin = "http://127.0.0.1:" + g.gatehouse().adminAddress().getPort();
            g.gatehouse().sampleTraffic();   // the baseline, so the next sample has a rate
            one.enqueue(TestResponse.status(500), TestResponse.status(500));
            List<Integer> statuses = new ArrayList<>();
            for (int i = 0; i < 30; i++) statuses.add(g.get("/api/item/" + i).statusCode());
            assertThat(statuses).filteredOn(s -> s == 500).hasSize(2);
            // one miss (the only one of these the cluster sees) and three hits: a 75% hit ratio in the Cache panel
            for (int i = 0; i < 4; i++) assertThat(g.get("/cached/page").statusCode()).isEqualTo(200);
            for (int i = 0; i < 4; i++) {
                assertThat(g.send(HttpRequest.newBuilder(g.uri("/keys/" + i)).header("x-api-key", SHOP_KEY).build()).statusCode())
                        .isEqualTo(200);
            }
            three.healthy(false);
            await().atMost(Duration.ofSeconds(10)).until(() -> endpoint(api(admin, "/clusters/app"), three.address())
                    .path("state").asText().equals("unhealthy"));
            g.gatehouse().sampleTraffic();

            JsonNode stats = api(admin, "/stats");
            JsonNode app = api(admin, "/clusters/app");
            assertThat(app.path("requests_total").asLong()).isEqualTo(35);

            List<String> pageErrors = new CopyOnWriteArrayList<>();
            try (Playwright playwright = Playwright.create(new Playwright.CreateOptions()
                    .setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
                 Browser browser = playwright.chromium().launch(new BrowserType.LaunchOptions()
                         .setExecutablePath(CHROMIUM).setHeadless(true)
                         .setArgs(List.of("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                                 "--disable-background-networking", "--disable-component-update", "--disable-sync")))) {
                Page page = browser.newPage(new Browser.NewPageOptions().setViewportSize(1400, 900));
                page.onConsoleMessage(m -> { if (m.type().equals("error")) pageErrors.add(m.text()); });
                page.onPageError(pageErrors::add);
                page.onResponse(r -> { if (r.status() >= 400) pageErrors.add(r.status() + " " + r.url()); });

                page.navigate(admin + "/dashboard/?token=" + TOKEN);
                PlaywrightAssertions.assertThat(page.locator("#status")).hasClass(Pattern.compile("\\blive\\b"));
                assertThat(page.url()).as("the token leaves the address bar").doesNotContain(TOKEN);

                // the topology, with the names from the configuration
                Locator topology = page.locator("#topology svg");
                PlaywrightAssertions.assertThat(topology.locator("[data-kind=listener][data-name=edge]")).isVisible();
                PlaywrightAssertions.assertThat(topology.locator("[data-kind=route][data-name=ping]")).isVisible();
                PlaywrightAssertions.assertThat(topology.locator("[data-kind=route][data-name=api]")).isVisible();
                PlaywrightAssertions.assertThat(topology.locator("[data-kind=cluster][data-name=app]")).isVisible();
                for (JsonNode ep : app.path("endpoints")) {
                    PlaywrightAssertions.assertThat(topology.locator("[data-kind=endpoint][data-cluster=app][data-name=\""
                            + ep.path("address").asText() + "\"]")).hasAttribute("data-state", ep.path("state").asText());
                }
                PlaywrightAssertions.assertThat(topology.locator("[data-kind=endpoint]")).hasCount(3);

                // each route's filter chain, in the order it runs, ending in its action
                Locator apiChain = page.locator("#routes tr[data-route=api] [data-field=chain] li");
                PlaywrightAssertions.assertThat(apiChain).hasText(new String[] {"cors", "proxy → app"});
                PlaywrightAssertions.assertThat(page.locator("#routes tr[data-route=ping] [data-field=chain] li.action"))
                        .hasText("direct_response");

                // the totals and the cluster card show what the API says
                PlaywrightAssertions.assertThat(page.locator("#totals [data-field=requests_total]"))
                        .hasText(stats.path("requests_total").asText());
                assertThat(stats.path("errors_total").asLong()).isEqualTo(2);
                PlaywrightAssertions.assertThat(page.locator("#totals [data-field=errors_total]")).hasText("2 (5.7%)");   // of 35 proxied: cache hits are not
                PlaywrightAssertions.assertThat(page.locator("#totals [data-field=endpoints]"))
                        .hasText(stats.path("endpoints_available").asInt() + " / " + stats.path("endpoints").asInt());
                Locator card = page.locator("section.cluster[data-cluster=app]");
                PlaywrightAssertions.assertThat(card.locator(".figures [data-field=requests_total]"))
                        .hasText(app.path("requests_total").asText());
                PlaywrightAssertions.assertThat(card.locator(".figures [data-field=endpoints]"))
                        .hasText(app.path("endpoints_available").asInt() + " / " + app.path("endpoints").size());
                PlaywrightAssertions.assertThat(card.locator("[data-field=mode]")).hasText(app.path("mode").asText());
                for (JsonNode ep : app.path("endpoints")) {
                    Locator row = card.locator("tr.endpoint[data-address=\"" + ep.path("address").asText() + "\"]");
                    PlaywrightAssertions.assertThat(row).hasAttribute("data-state", ep.path("state").asText());
                    PlaywrightAssertions.assertThat(row.locator("[data-field=requests_total]"))
                            .hasText(ep.path("requests_total").asText());
                    PlaywrightAssertions.assertThat(row.locator("[data-field=errors_total]"))
                            .hasText(ep.path("errors_total").asText());
                }
                PlaywrightAssertions.assertThat(card.locator(".charts path.line").first()).isAttached();
                PlaywrightAssertions.assertThat(card.locator(".share-bars .share")).hasCount(3);

                // drain from the page: the page and the API agree on the new state
                Locator row = card.locator("tr.endpoint[data-address=\"" + two.address() + "\"]");
                row.locator("button[data-action=drain]").click();
                PlaywrightAssertions.assertThat(row).hasAttribute("data-state", "draining");
                PlaywrightAssertions.assertThat(card.locator("tr.result-row[data-for=\"" + two.address() + "\"]"))
                        .hasText("drain: " + two.address() + " is now draining");
                PlaywrightAssertions.assertThat(topology.locator("[data-kind=endpoint][data-name=\"" + two.address() + "\"]"))
                        .hasAttribute("data-state", "draining");
                assertThat(endpoint(api(admin, "/clusters"), two.address()).path("state").asText()).isEqualTo("draining");

                // the gateway card: each route's authentication and limits, and the top consumers, as /gateway says
                JsonNode gateway = api(admin, "/gateway");
                Locator keys = page.locator("#gateway tr.gw-route[data-route=keys]");
                PlaywrightAssertions.assertThat(keys.locator("[data-field=auth] .gw-filter[data-type=api_key]")).containsText("header x-api-key");
                PlaywrightAssertions.assertThat(keys.locator("[data-field=limits] .gw-filter[data-type=rate_limit]"))
                        .containsText("100/s burst 100, 1000/h burst 1000");
                PlaywrightAssertions.assertThat(page.locator("#gateway tr.gw-route[data-route=ping] [data-field=auth]")).hasText("none");
                JsonNode top = gateway.path("top_consumers").get(0);
                assertThat(top.path("consumer").asText()).isEqualTo("shop");
                assertThat(top.path("requests").asLong()).isEqualTo(4);
                PlaywrightAssertions.assertThat(page.locator("#gateway tr.top-consumer[data-consumer=shop] [data-field=requests]")).hasText("4");

                // the Cache panel: the cached route's hit ratio, as GET /cache counts it
                JsonNode cache = api(admin, "/cache").path("routes").get(0);
                assertThat(cache.path("route").asText()).isEqualTo("cached");
                assertThat(cache.path("hits").asLong()).isEqualTo(3);
                assertThat(cache.path("misses").asLong()).isEqualTo(1);
                PlaywrightAssertions.assertThat(page.locator("#cache-section")).isVisible();
                Locator cached = page.locator("#cache tr[data-route=\"edge/cached\"]");
                PlaywrightAssertions.assertThat(cached.locator("[data-field=hit_ratio]")).hasText("75%");
                PlaywrightAssertions.assertThat(page.locator("#cache tbody tr")).hasCount(1);

                PlaywrightAssertions.assertThat(page.locator("#events [data-kind=admin]").first()).isVisible();
                assertThat(pageErrors).as("errors in the browser console and failed requests").isEmpty();

                // errors from the API are shown, not swallowed: this Gatehouse has no config file to reload
                page.locator("button[data-action=reload]").click();
                PlaywrightAssertions.assertThat(page.locator("#reload .result.error")).containsText("409");
                Path shot = Path.of("target", "dashboard.png");
                page.screenshot(new Page.ScreenshotOptions().setFullPage(true).setPath(shot));
                assertThat(shot).isNotEmptyFile();
                if (Boolean.getBoolean("gatehouse.update-screenshots")) {
                    java.nio.file.Files.copy(shot, projectRoot().resolve("docs/dashboard.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }

                // without the token the page says why it shows nothing
                Page anonymous = browser.newPage();
                anonymous.navigate(admin + "/dashboard/");
                PlaywrightAssertions.assertThat(anonymous.locator("#status.error")).containsText("401");
            }
        }
    }

    private static JsonNode api(String admin, String path) throws Exception {
        HttpResponse<String> response = java.net.http.HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(admin + path)).header("Authorization", "Bearer " + TOKEN).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("GET " + path + ": " + response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    /** The endpoint with this address in a Cluster object or in {"clusters":[…]}. */
    private static JsonNode endpoint(JsonNode clusters, String address) {
        List<JsonNode> all = new ArrayList<>();
        (clusters.has("clusters") ? clusters.path("clusters") : JSON.createArrayNode().add(clusters))
                .forEach(c -> c.path("endpoints").forEach(all::add));
        return all.stream().filter(ep -> ep.path("address").asText().equals(address)).findFirst()
                .orElseThrow(() -> new AssertionError("no endpoint " + address + " in " + clusters));
    }

    /** The repository root (where mvnw is), from the module directory Maven runs tests in. */
    private static Path projectRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("mvnw"))) dir = dir.getParent();
        if (dir == null) throw new IllegalStateException("no mvnw above " + Path.of("").toAbsolutePath());
        return dir;
    }
}
