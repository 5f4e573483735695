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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

import static io.gatehouse.Prerequisites.require;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /blocks} and the dashboard's System card: the blocks behind the edge that the starting process
 * registered (as {@code gatehouse up} does), with their health, shown in a real browser and updated as it changes.
 */
class SystemBlocksDashboardTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final String TOKEN = "blocks-test-token";
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final TestBackend app = new TestBackend().name("app");

    private String yaml() {
        return """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ "%s" ]
                admin: { address: "127.0.0.1:0", token: %s }
                """.formatted(app.address(), TOKEN);
    }

    private static SystemBlocks.Block block(String name, String health, String state) {
        return new SystemBlocks.Block(name, "engine of " + name, "127.0.0.1:1", health, state);
    }

    @Test
    void theApiListsNoBlocksUntilSomeAreRegisteredThenWhatTheOwnerReports() throws Exception {
        try (GatehouseFixture g = GatehouseFixture.start(yaml())) {
            String admin = "http://127.0.0.1:" + g.gatehouse().adminAddress().getPort();
            assertThat(api(admin, "/blocks").path("blocks")).isEmpty();
            SystemBlocks.register(g.gatehouse(), () -> List.of(block("db replica", "degraded", "lagging, lag 6000 ms")));
            JsonNode b = api(admin, "/blocks").path("blocks").get(0);
            assertThat(b.path("name").asText()).isEqualTo("db replica");
            assertThat(b.path("health").asText()).isEqualTo("degraded");
            assertThat(b.path("state").asText()).isEqualTo("lagging, lag 6000 ms");
            SystemBlocks.unregister(g.gatehouse());
            assertThat(api(admin, "/blocks").path("blocks")).isEmpty();
        }
    }

    @Test
    void theDashboardShowsEveryBlockWithItsHealthAndFollowsChanges() throws Exception {
        require(Files.exists(CHROMIUM), "no Chromium at " + CHROMIUM + " (apt-get install chromium; .ci/run does)");
        try (GatehouseFixture g = GatehouseFixture.start(yaml())) {
            String admin = "http://127.0.0.1:" + g.gatehouse().adminAddress().getPort();
            AtomicReference<List<SystemBlocks.Block>> blocks = new AtomicReference<>(List.of(
                    block("app-1", "up", "ready"), block("app-2", "up", "ready"),
                    block("db primary", "up", "up"), block("db replica", "up", "streaming, in read pool, lag 0 ms"),
                    block("registry", "up", "up, 2 instances registered, leader app-1"), block("cache", "up", "up")));
            SystemBlocks.register(g.gatehouse(), blocks::get);
            List<String> pageErrors = new CopyOnWriteArrayList<>();
            try (Playwright playwright = Playwright.create(new Playwright.CreateOptions()
                    .setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
                 Browser browser = playwright.chromium().launch(new BrowserType.LaunchOptions()
                         .setExecutablePath(CHROMIUM).setHeadless(true)
                         .setArgs(List.of("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                                 "--disable-background-networking", "--disable-component-update", "--disable-sync")))) {
                Page page = browser.newPage();
                page.onConsoleMessage(m -> { if (m.type().equals("error")) pageErrors.add(m.text()); });
                page.onPageError(pageErrors::add);
                page.navigate(admin + "/dashboard/?token=" + TOKEN);
                PlaywrightAssertions.assertThat(page.locator("#status")).hasClass(Pattern.compile("\\blive\\b"));

                Locator card = page.locator("#system");
                PlaywrightAssertions.assertThat(card).isVisible();
                PlaywrightAssertions.assertThat(card.locator("tbody tr")).hasCount(6);
                PlaywrightAssertions.assertThat(card.locator("tr[data-block=\"db replica\"]")).containsText("streaming, in read pool, lag 0 ms");
                PlaywrightAssertions.assertThat(card.locator("tr[data-block=\"db replica\"] .badge")).hasText("up");

                // an instance is killed and the replica falls behind: the next poll shows it
                blocks.set(List.of(block("app-1", "up", "ready"), block("app-2", "down", "stopped"),
                        block("db primary", "up", "up"), block("db replica", "degraded", "lagging, lag 7000 ms"),
                        block("registry", "up", "up, 1 instances registered, leader app-1"), block("cache", "down", "down")));
                PlaywrightAssertions.assertThat(card.locator("tr[data-block=app-2]")).hasAttribute("data-health", "down");
                PlaywrightAssertions.assertThat(card.locator("tr[data-block=app-2] .badge")).hasClass(Pattern.compile("state-unhealthy"));
                PlaywrightAssertions.assertThat(card.locator("tr[data-block=\"db replica\"]")).hasAttribute("data-health", "degraded");
                PlaywrightAssertions.assertThat(card.locator("tr[data-block=\"db replica\"]")).containsText("lag 7000 ms");
                PlaywrightAssertions.assertThat(card.locator("tr[data-block=cache] .badge")).hasText("down");

                // the edge's own clusters are still there below it
                PlaywrightAssertions.assertThat(page.locator("section.cluster[data-cluster=app]")).isVisible();
                assertThat(pageErrors).as("errors in the browser console").isEmpty();

                // a process that registers nothing (gatehouse run) shows no System card
                SystemBlocks.unregister(g.gatehouse());
                PlaywrightAssertions.assertThat(card).isHidden();
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
}
