package io.gatehouse.deny;

import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.redis.SharedRedis;
import io.gatehouse.redis.SharedRedis.Answer;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code deny} over real sockets: the configured lists (CIDR, User-Agent, header), and the shared list in a real Redis
 * that two edges honour: added through one edge's admin API, refused by the other after its next poll; removed, served
 * again; bad calls answered with problem+json. On HTTP/1.1 and on HTTP/2 (TLS, ALPN h2): one Redis for the
 * class, two edges per protocol.
 */
@org.junit.jupiter.params.ParameterizedClass(name = "{0}")
@org.junit.jupiter.params.provider.EnumSource(io.gatehouse.Protocol.class)
class DenyTest {
    @RegisterExtension
    static final TestBackend backend = new TestBackend().name("api");
    static SharedRedis redis;
    static Gatehouse a;
    static Gatehouse b;
    static HttpClient client;
    static io.gatehouse.Protocol protocol;
    @org.junit.jupiter.params.Parameter
    io.gatehouse.Protocol parameter;

    @BeforeAll
    static void startRedis() throws Exception {
        redis = new SharedRedis();
    }

    /** Two edges per protocol: started by the first test of each run of the class. */
    // Redis's timeout is generous (5 s): an admin write or poll slowed by a loaded machine must not fail as a Redis
    // timeout, which is not what these tests are about
    static void start(io.gatehouse.Protocol p) throws Exception {
        protocol = p;
        client = p.client();
        String yaml = """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    filters:
                      - deny:
                          user_agents: ["BadBot/*"]
                          headers: [{name: x-tenant, equals: banned}]
                    routes:
                      - name: lan-only
                        match: {path_prefix: /lan}
                        cluster: api
                        filters:
                          - deny: {cidrs: ["127.0.0.0/8"], shared: false}
                      - name: api
                        cluster: api
                redis: {address: "%s", timeout: 5s}
                clusters:
                  - name: api
                    endpoints: ["%s"]
                admin: {address: "127.0.0.1:0"}
                """.formatted(p.listenerTls(), redis.address(), backend.address());
        a = Gatehouse.start(ConfigLoader.parse(yaml, "a.yaml"));
        b = Gatehouse.start(ConfigLoader.parse(yaml, "b.yaml"));
    }

    static void stopEdges() {
        if (a != null) a.shutdown(Duration.ofSeconds(1));
        if (b != null) b.shutdown(Duration.ofSeconds(1));
        a = b = null;
        protocol = null;
    }

    @AfterAll
    static void stop() throws Exception {
        stopEdges();
        redis.close();
    }

    /** The edges for this run's protocol (one place: the order of several @BeforeEach methods is not defined), then an empty list. */
    @BeforeEach
    void startForAndClean() throws Exception {
        if (protocol != parameter) {
            stopEdges();
            start(parameter);
        }
        for (var e : SharedRedis.admin(a, "GET", "/deny", null).json().get("entries")) {
            SharedRedis.admin(a, "DELETE", "/deny/" + e.get("id").asText(), null);
        }
        await().atMost(SharedRedis.REACHES_OTHER_EDGE).until(() -> SharedRedis.admin(b, "GET", "/deny", null).json().get("entries").isEmpty());
        backend.reset();
    }

    static HttpResponse<String> get(Gatehouse g, String path, Map<String, String> headers) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(protocol.uri(g.listenerAddress("edge").getPort(), path))
                .timeout(Duration.ofSeconds(10));
        headers.forEach(r::header);
        HttpResponse<String> response = client.send(r.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.version()).isEqualTo(protocol.version());
        return response;
    }

    @Test
    void theConfiguredListsRefuseByUserAgentHeaderAndNetwork() throws Exception {
        assertThat(get(a, "/x", Map.of("user-agent", "GoodClient/1")).statusCode()).isEqualTo(200);
        HttpResponse<String> bot = get(a, "/x", Map.of("user-agent", "BadBot/2.1"));
        assertThat(bot.statusCode()).isEqualTo(403);
        assertThat(bot.headers().firstValue("content-type")).hasValue("application/problem+json");
        assertThat(bot.headers().firstValue("gatehouse-reason")).hasValue("denied");
        assertThat(get(a, "/x", Map.of("x-tenant", "banned")).statusCode()).isEqualTo(403);
        assertThat(get(a, "/x", Map.of("x-tenant", "fine")).statusCode()).isEqualTo(200);
        assertThat(get(a, "/lan/x", Map.of()).statusCode()).as("the route's own deny: loopback is refused there").isEqualTo(403);
        assertThat(backend.requestCount()).isEqualTo(2);
    }

    @Test
    void anEntryAddedThroughOneEdgeIsHonouredByTheOther() throws Exception {
        assertThat(get(b, "/x", Map.of()).statusCode()).isEqualTo(200);
        Answer added = SharedRedis.admin(a, "POST", "/deny", "{\"type\": \"cidr\", \"value\": \"127.0.0.1/32\", \"reason\": \"abuse\"}");
        assertThat(added.status()).isEqualTo(201);
        assertThat(added.json().get("id").asText()).isEqualTo("cidr:127.0.0.1/32");
        assertThat(get(a, "/x", Map.of()).statusCode()).as("the edge that added it at once").isEqualTo(403);
        await().atMost(SharedRedis.REACHES_OTHER_EDGE).pollInterval(Duration.ofMillis(20)).until(() -> get(b, "/x", Map.of()).statusCode() == 403);
        assertThat(SharedRedis.admin(b, "GET", "/deny", null).json().get("entries").get(0).get("reason").asText()).isEqualTo("abuse");

        assertThat(SharedRedis.admin(b, "DELETE", "/deny/cidr:127.0.0.1%2F32", null).status()).isEqualTo(200);
        await().atMost(SharedRedis.REACHES_OTHER_EDGE).pollInterval(Duration.ofMillis(20)).until(() -> get(a, "/x", Map.of()).statusCode() == 200);
    }

    @Test
    void userAgentAndHeaderEntriesAndAnExpiry() throws Exception {
        assertThat(SharedRedis.admin(a, "POST", "/deny", "{\"type\": \"user_agent\", \"value\": \"scraper*\"}").status()).isEqualTo(201);
        assertThat(SharedRedis.admin(a, "POST", "/deny", "{\"type\": \"header\", \"header\": \"X-Api-Client\", \"value\": \"v0.*\"}").status()).isEqualTo(201);
        await().atMost(SharedRedis.REACHES_OTHER_EDGE).until(() -> get(b, "/x", Map.of("user-agent", "scraper 3")).statusCode() == 403);
        await().atMost(SharedRedis.REACHES_OTHER_EDGE).until(() -> get(b, "/x", Map.of("x-api-client", "v0.9")).statusCode() == 403);
        assertThat(get(b, "/x", Map.of("x-api-client", "v1.0", "user-agent", "app")).statusCode()).isEqualTo(200);

        Answer shortLived = SharedRedis.admin(a, "POST", "/deny", "{\"type\": \"cidr\", \"value\": \"127.0.0.0/8\", \"ttl\": \"1s\"}");
        assertThat(shortLived.json().get("expires").asText()).isNotEmpty();
        await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50)).until(() -> get(b, "/x", Map.of()).statusCode() == 200);
    }

    @Test
    void badCallsAreProblemsThatSayWhat() {
        Answer badType = SharedRedis.admin(a, "POST", "/deny", "{\"type\": \"country\", \"value\": \"XX\"}");
        assertThat(badType.status()).isEqualTo(400);
        assertThat(badType.contentType()).isEqualTo("application/problem+json");
        assertThat(badType.json().get("detail").asText()).contains("type: one of cidr, user_agent, header");
        Answer badCidr = SharedRedis.admin(a, "POST", "/deny", "{\"type\": \"cidr\", \"value\": \"10.0.0.0/99\"}");
        assertThat(badCidr.status()).isEqualTo(400);
        assertThat(badCidr.json().get("detail").asText()).contains("prefix");
        assertThat(SharedRedis.admin(a, "POST", "/deny", "not json").json().get("detail").asText()).contains("not JSON");
        Answer missing = SharedRedis.admin(a, "DELETE", "/deny/cidr:192.0.2.1", null);
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.contentType()).isEqualTo("application/problem+json");
        assertThat(SharedRedis.admin(a, "PUT", "/deny", "{}").status()).isEqualTo(405);
    }
}
