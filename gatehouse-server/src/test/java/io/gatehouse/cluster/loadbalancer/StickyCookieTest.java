package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ClusterConfig.StickyCookieConfig;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static io.gatehouse.cluster.loadbalancer.TestEndpoints.endpoints;
import static org.assertj.core.api.Assertions.assertThat;

class StickyCookieTest {
    private final List<Endpoint> eps = endpoints(Ticker.newMockTicker(), 1, 1, 1);
    private final StickyCookie sticky = new StickyCookie(new StickyCookieConfig(null, null));

    @Test
    void valueRoundTripsToTheSameEndpoint() {
        for (Endpoint e : eps) {
            String value = sticky.valueFor(e);
            assertThat(value).matches("[0-9a-f]{16}").doesNotContain("10.0.0");
            assertThat(sticky.find(eps, value)).isSameAs(e);
            // stable: another instance (a restart, another Gatehouse) reads it the same way
            assertThat(new StickyCookie(new StickyCookieConfig(null, null)).find(eps, value)).isSameAs(e);
        }
    }

    @Test
    void findsNothingForAnUnavailableEndpointOrAGarbledValue() {
        String value = sticky.valueFor(eps.get(1));
        assertThat(sticky.find(List.of(eps.get(0), eps.get(2)), value)).isNull();
        assertThat(sticky.find(eps, "zz" + value.substring(2))).isNull();
        assertThat(sticky.find(eps, value + "0")).isNull();
        assertThat(sticky.find(eps, (String) null)).isNull();
    }

    @Test
    void aSecretChangesTheValues() {
        StickyCookie keyed = new StickyCookie(new StickyCookieConfig(null, null), 0x5EC2E7L);
        assertThat(keyed.valueFor(eps.get(0))).isNotEqualTo(sticky.valueFor(eps.get(0)));
        assertThat(keyed.find(eps, sticky.valueFor(eps.get(0)))).isNull();
        assertThat(keyed.find(eps, keyed.valueFor(eps.get(0)))).isSameAs(eps.get(0));
    }

    @Test
    void buildsTheSetCookieHeaderAndReadsItBack() {
        StickyCookie withTtl = new StickyCookie(new StickyCookieConfig("route", Duration.ofHours(1)));
        String value = withTtl.valueFor(eps.get(2));
        assertThat(withTtl.setCookie(eps.get(2))).isEqualTo("route=" + value + "; Path=/; HttpOnly; Max-Age=3600");
        assertThat(sticky.setCookie(eps.get(2))).isEqualTo("GATEHOUSE_STICKY=" + sticky.valueFor(eps.get(2)) + "; Path=/; HttpOnly");

        DefaultHttpHeaders request = new DefaultHttpHeaders();
        request.add("cookie", "theme=dark; route=" + value);
        assertThat(withTtl.find(eps, request)).isSameAs(eps.get(2));
        assertThat(withTtl.find(eps, new DefaultHttpHeaders())).isNull();
    }
}
