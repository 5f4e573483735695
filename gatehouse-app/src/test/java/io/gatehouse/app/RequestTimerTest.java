package io.gatehouse.app;

import io.micrometer.core.instrument.Timer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.Collection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The per-request timer, now looked up in a map per method/route/status instead of registered per request. */
@ExtendWith(Engines.class)
class RequestTimerTest {
    static App app;
    static Http http;

    @BeforeAll
    static void start() {
        app = App.start(Engines.config("timer-test"));
        http = new Http(app.port());
    }

    @AfterAll
    static void stop() {
        app.close();
    }

    @Test
    void countsEveryRequestUnderItsMethodRouteAndStatus() {
        String code = app.links().create("timer-owner", "https://example.com/t", null, null, false).value().code();
        for (int i = 0; i < 20; i++) assertThat(http.get("/" + code).statusCode()).isEqualTo(302);
        for (int i = 0; i < 3; i++) assertThat(http.get("/zz-no-such-link").statusCode()).isEqualTo(404);
        assertThat(http.send("POST", "/api/links", "timer-owner", "{\"target\":\"https://example.com/u\"}").statusCode())
                .isEqualTo(201);

        // The filter records after the response is sent: the client can be a moment ahead of the count.
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(timer("GET", "/{code}", "302").count()).isEqualTo(20);
            assertThat(timer("GET", "/{code}", "404").count()).isEqualTo(3);
            assertThat(timer("POST", "/api/links", "201").count()).isEqualTo(1);
        });
        // One meter per tag set, whatever the number of requests, and the names the dashboards read.
        Collection<Timer> redirects = app.meters().find("app.http.requests").tag("route", "/{code}").timers();
        assertThat(redirects).hasSize(2);
        assertThat(timer("GET", "/{code}", "302").getId().getTag("instance")).isEqualTo("timer-test");
        assertThat(http.get("/metrics").body()).containsPattern(
                "app_http_requests_seconds_count\\{instance=\"timer-test\",method=\"GET\",route=\"/\\{code}\",status=\"302\"} 20");
    }

    private static Timer timer(String method, String route, String status) {
        Timer t = app.meters().find("app.http.requests").tags("method", method, "route", route, "status", status).timer();
        assertThat(t).as("%s %s %s", method, route, status).isNotNull();
        return t;
    }
}
