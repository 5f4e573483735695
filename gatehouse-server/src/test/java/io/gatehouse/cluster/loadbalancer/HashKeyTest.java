package io.gatehouse.cluster.loadbalancer;

import io.gatehouse.config.ClusterConfig.HashConfig;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class HashKeyTest {
    private static final InetAddress CLIENT = address("192.0.2.7");

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);  // a literal: no lookup
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static HttpHeaders headers(String... namesAndValues) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (int i = 0; i < namesAndValues.length; i += 2) h.add(namesAndValues[i], namesAndValues[i + 1]);
        return h;
    }

    @Test
    void hashesAHeaderValueAndReportsItsAbsence() {
        HashKey key = new HashKey(new HashConfig("x-user", null, false, false));
        long alice = key.hash(headers("X-User", "alice"), "/a", CLIENT);
        assertThat(alice).isNotEqualTo(HashKey.NO_KEY);
        assertThat(key.hash(headers("x-user", "alice"), "/other", address("198.51.100.1"))).isEqualTo(alice);
        assertThat(key.hash(headers("x-user", "bob"), "/a", CLIENT)).isNotEqualTo(alice);
        assertThat(key.hash(headers("x-other", "alice"), "/a", CLIENT)).isEqualTo(HashKey.NO_KEY);
    }

    @Test
    void hashesACookieValueAmongOthers() {
        HashKey key = new HashKey(new HashConfig(null, "session", false, false));
        long plain = key.hash(headers("cookie", "a=1; session=abc123; b=2"), "/", CLIENT);
        assertThat(plain).isNotEqualTo(HashKey.NO_KEY);
        assertThat(key.hash(headers("cookie", "session=abc123"), "/", CLIENT)).isEqualTo(plain);
        assertThat(key.hash(headers("cookie", "session=\"abc123\";x=y"), "/", CLIENT)).isEqualTo(plain);
        // HTTP/2 may split cookies over several header lines
        assertThat(key.hash(headers("cookie", "a=1", "cookie", "session=abc123"), "/", CLIENT)).isEqualTo(plain);
        assertThat(key.hash(headers("cookie", "session=abc124"), "/", CLIENT)).isNotEqualTo(plain);
        assertThat(key.hash(headers("cookie", "xsession=abc123; sessionx=abc123"), "/", CLIENT)).isEqualTo(HashKey.NO_KEY);
        assertThat(key.hash(headers(), "/", CLIENT)).isEqualTo(HashKey.NO_KEY);
    }

    @Test
    void scansCookieHeadersLikeTheRfc() {
        String line = "novalue; a = 1 ;b=\"\"; c=x=y";
        assertThat(range(line, "a")).isEqualTo("1");
        assertThat(range(line, "b")).isEmpty();
        assertThat(range(line, "c")).isEqualTo("x=y");
        assertThat(HashKey.cookieValue(line, "novalue")).isEqualTo(-1);
    }

    private static String range(String line, String name) {
        long r = HashKey.cookieValue(line, name);
        return r < 0 ? null : line.substring((int) (r >>> 32), (int) r);
    }

    @Test
    void hashesTheClientAddressForIpv4AndIpv6() {
        HashKey key = new HashKey(HashConfig.CLIENT_IP);
        long v4 = key.hash(headers(), "/", CLIENT);
        assertThat(key.hash(headers("x", "y"), "/z", address("192.0.2.7"))).isEqualTo(v4);
        assertThat(key.hash(headers(), "/", address("192.0.2.8"))).isNotEqualTo(v4);
        long v6 = key.hash(headers(), "/", address("2001:db8::1"));
        assertThat(v6).isNotIn(HashKey.NO_KEY, v4);
        assertThat(key.hash(headers(), "/", address("2001:db8::1"))).isEqualTo(v6);
        assertThat(key.hash(headers(), "/", address("2001:db8::2"))).isNotEqualTo(v6);
        assertThat(key.hash(headers(), "/", null)).isEqualTo(HashKey.NO_KEY);
    }

    @Test
    void hashesThePath() {
        HashKey key = new HashKey(new HashConfig(null, null, false, true));
        long p = key.hash(headers(), "/images/cat.png", CLIENT);
        assertThat(key.hash(headers(), "/images/cat.png", address("198.51.100.1"))).isEqualTo(p);
        assertThat(key.hash(headers(), "/images/dog.png", CLIENT)).isNotIn(p, HashKey.NO_KEY);
    }

    @Test
    void nearbyInputsGiveUnrelatedHashes() {
        // every one of 2^16 consecutive keys distinct, and their high bits (what the ring uses) well spread
        Set<Long> seen = new HashSet<>();
        int[] buckets = new int[16];
        for (int i = 0; i < 65_536; i++) {
            long h = HashKey.hash("user-" + i, 0, ("user-" + i).length());
            seen.add(h);
            buckets[(int) (h >>> 60)]++;
        }
        assertThat(seen).hasSize(65_536);
        for (int b : buckets) assertThat(b).isBetween(3_700, 4_500);
    }
}
