package io.gatehouse.auth;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.assertions.PlaywrightAssertions;
import com.microsoft.playwright.options.Cookie;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import io.netty.handler.codec.http.QueryStringDecoder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.gatehouse.Prerequisites.require;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code oidc} in a real headless browser (Debian's Chromium driven by Playwright, as the dashboard test): the
 * browser opens a protected page, is sent to the identity provider's login page (a provider started in the test,
 * with a form, PKCE enforced at its token endpoint), signs in there, comes back to the edge with the session cookie
 * and sees the page as the signed-in user; then signs out, and the same page asks for a login again.
 */
class OidcBrowserTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    @RegisterExtension
    static final TestBackend app = new TestBackend().name("app");
    @RegisterExtension
    static final TestBackend idp = new TestBackend().name("idp");

    static RSAKey key;
    static final Map<String, String[]> pending = new ConcurrentHashMap<>();   // login id → {redirect_uri, state, challenge, nonce}
    static final Map<String, String[]> codes = new ConcurrentHashMap<>();     // code → {challenge, nonce, user}
    static final List<String> tokenCalls = new CopyOnWriteArrayList<>();
    static Gatehouse edge;

    static String issuer() {
        return "http://127.0.0.1:" + idp.port();
    }

    @BeforeAll
    static void start() throws Exception {
        key = new RSAKeyGenerator(2048).keyID("idp-browser").generate();
        edge = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: app
                        cluster: app
                        filters:
                          - oidc:
                              issuer: "%s"
                              client_id: edge-client
                              client_secret: s3cret
                              cookie_secret: "0123456789abcdef0123456789abcdef-browser"
                clusters:
                  - name: app
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(issuer(), app.address()), "oidc-browser.yaml"));
    }

    @AfterAll
    static void stop() {
        if (edge != null) edge.shutdown(Duration.ofSeconds(1));
    }

    /** The provider: discovery, JWKS, a login page, the form's target, the token endpoint (PKCE checked), logout. */
    static TestResponse provider(RecordedRequest r) {
        Map<String, List<String>> q = new QueryStringDecoder(r.uri()).parameters();
        try {
            switch (r.path()) {
                case "/.well-known/openid-configuration" -> {
                    return json("""
                            {"issuer":"%1$s","authorization_endpoint":"%1$s/authorize","token_endpoint":"%1$s/token",
                             "jwks_uri":"%1$s/jwks","end_session_endpoint":"%1$s/logout"}""".formatted(issuer()));
                }
                case "/jwks" -> {
                    return json(new JWKSet(key.toPublicJWK()).toString(true));
                }
                case "/authorize" -> {
                    if (!List.of("S256").equals(q.get("code_challenge_method"))) return TestResponse.status(400).body("PKCE S256 required");
                    String login = "login-" + pending.size();
                    pending.put(login, new String[] {q.get("redirect_uri").get(0), q.get("state").get(0),
                            q.get("code_challenge").get(0), q.get("nonce").get(0)});
                    return html("""
                            <!doctype html><html><head><title>Sign in to the test IdP</title></head><body>
                            <form method="post" action="/login">
                              <input type="hidden" name="login" value="%s">
                              <label>User <input id="user" name="user"></label>
                              <label>Password <input id="password" name="password" type="password"></label>
                              <button id="submit" type="submit">Sign in</button>
                            </form></body></html>""".formatted(login));
                }
                case "/login" -> {
                    Map<String, List<String>> form = new QueryStringDecoder("?" + r.bodyAsString()).parameters();
                    String[] login = pending.remove(form.get("login").get(0));
                    if (login == null || !"correct horse".equals(form.get("password").get(0))) return html("<p id=error>wrong password</p>").statusCode(401);
                    String code = "code-" + codes.size();
                    codes.put(code, new String[] {login[2], login[3], form.get("user").get(0)});
                    return TestResponse.status(302).header("location", login[0] + "?code=" + code + "&state=" + login[1]);
                }
                case "/token" -> {
                    Map<String, List<String>> form = new QueryStringDecoder("?" + r.bodyAsString()).parameters();
                    tokenCalls.add(form.get("grant_type").get(0));
                    if (!"s3cret".equals(form.get("client_secret").get(0))) return TestResponse.status(401);
                    String[] issued = codes.remove(form.get("code").get(0));
                    String challenge = Base64.getUrlEncoder().withoutPadding().encodeToString(java.security.MessageDigest.getInstance("SHA-256")
                            .digest(form.get("code_verifier").get(0).getBytes(StandardCharsets.US_ASCII)));
                    if (issued == null || !issued[0].equals(challenge)) return TestResponse.status(400).body("{\"error\":\"invalid_grant\"}");
                    SignedJWT id = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("idp-browser").build(),
                            new JWTClaimsSet.Builder().issuer(issuer()).audience("edge-client").subject(issued[2])
                                    .claim("nonce", issued[1]).expirationTime(new Date(System.currentTimeMillis() + 600_000)).build());
                    id.sign(new RSASSASigner(key));
                    return json("{\"id_token\":\"" + id.serialize() + "\",\"access_token\":\"at1\",\"refresh_token\":\"rt1\",\"expires_in\":600}");
                }
                case "/logout" -> {
                    return html("<!doctype html><title>Signed out</title><p id=bye>You are signed out</p>");
                }
                default -> {
                    return TestResponse.status(404);
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static TestResponse json(String body) {
        return TestResponse.ok(body).header("content-type", "application/json");
    }

    static TestResponse html(String body) {
        return TestResponse.ok(body).header("content-type", "text/html; charset=utf-8");
    }

    @Test
    void signInThroughTheProvidersLoginPageSeeTheProtectedPageThenSignOut() {
        require(Files.exists(CHROMIUM), "no Chromium at " + CHROMIUM + " (apt-get install chromium; .ci/run does)");
        idp.respond(OidcBrowserTest::provider);
        app.respond(r -> html("<!doctype html><title>Reports</title><h1 id=who>Reports for " + r.header("x-subject") + "</h1>"));
        String edgeUrl = "http://127.0.0.1:" + edge.listenerAddress("edge").getPort();
        List<String> pageErrors = new CopyOnWriteArrayList<>();
        try (Playwright playwright = Playwright.create(new Playwright.CreateOptions().setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
             Browser browser = playwright.chromium().launch(new BrowserType.LaunchOptions()
                     .setExecutablePath(CHROMIUM).setHeadless(true)
                     .setArgs(List.of("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                             "--disable-background-networking", "--disable-component-update", "--disable-sync")));
             BrowserContext context = browser.newContext()) {
            Page page = context.newPage();
            page.onPageError(pageErrors::add);
            page.setDefaultTimeout(15_000);

            // the protected page sends the browser to the provider's login page
            page.navigate(edgeUrl + "/reports?year=2030");
            page.waitForURL(u -> u.startsWith(issuer() + "/authorize?"));   // a predicate: Pattern.quote is not JavaScript regex
            assertThat(page.url()).contains("code_challenge=").contains("code_challenge_method=S256");
            PlaywrightAssertions.assertThat(page).hasTitle("Sign in to the test IdP");
            assertThat(context.cookies()).extracting(c -> c.name).doesNotContain("gatehouse_session");

            // a wrong password stays at the provider
            page.fill("#user", "alice");
            page.fill("#password", "wrong");
            page.click("#submit");
            PlaywrightAssertions.assertThat(page.locator("#error")).hasText("wrong password");
            assertThat(tokenCalls).isEmpty();

            // signing in brings it back to the page it asked for, with a session, as alice
            page.navigate(edgeUrl + "/reports?year=2030");
            page.fill("#user", "alice");
            page.fill("#password", "correct horse");
            page.click("#submit");
            PlaywrightAssertions.assertThat(page).hasURL(edgeUrl + "/reports?year=2030");
            PlaywrightAssertions.assertThat(page.locator("#who")).hasText("Reports for alice");
            assertThat(tokenCalls).containsExactly("authorization_code");
            Cookie session = context.cookies(edgeUrl).stream().filter(c -> c.name.equals("gatehouse_session")).findFirst().orElseThrow();
            assertThat(session.httpOnly).as("the session cookie is out of scripts' reach").isTrue();
            assertThat(session.value).as("encrypted: no token or name readable in it").doesNotContain("alice").doesNotContain("at1");

            // the session carries the next visits without the provider
            page.navigate(edgeUrl + "/reports/2029");
            PlaywrightAssertions.assertThat(page.locator("#who")).hasText("Reports for alice");
            assertThat(tokenCalls).hasSize(1);

            // logout: the cookie goes, the provider ends its session, and the page asks for a login again
            page.navigate(edgeUrl + "/oauth2/logout");
            page.waitForURL(u -> u.startsWith(issuer() + "/logout"));
            PlaywrightAssertions.assertThat(page.locator("#bye")).hasText("You are signed out");
            assertThat(context.cookies(edgeUrl)).extracting(c -> c.name).doesNotContain("gatehouse_session");
            page.navigate(edgeUrl + "/reports?year=2030");
            PlaywrightAssertions.assertThat(page).hasTitle("Sign in to the test IdP");
        }
        assertThat(pageErrors).isEmpty();
    }
}
