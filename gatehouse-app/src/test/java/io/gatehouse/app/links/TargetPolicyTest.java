package io.gatehouse.app.links;

import io.gatehouse.app.http.ProblemException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TargetPolicyTest {
    private final TargetPolicy policy = new TargetPolicy(Set.of("go.example.org", "localhost"));

    @ParameterizedTest
    @ValueSource(strings = {
            "ftp://example.com/", "javascript:alert(1)", "file:///etc/passwd", "data:text/html,hi", "example.com",
            "http://localhost/", "http://LOCALHOST:8080/admin", "http://printer.local/", "http://db.internal/",
            "http://intranet/", "http://127.0.0.1/", "http://127.1/", "http://2130706433/", "http://0x7f000001/",
            "http://0177.0.0.1/", "http://10.0.0.5/", "http://172.16.3.4/", "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/", "http://0.0.0.0/", "http://[::1]/",
            "http://[fe80::1]/", "http://[fd00::1]/", "http://[::ffff:10.0.0.1]/", "http://go.example.org/abc",
            "http://go.example.org./abc", "http://user:pw@example.com/", "https:///nohost"})
    void refusesUnsafeTargets(String target) {
        assertThatThrownBy(() -> policy.checkTarget(target)).isInstanceOf(ProblemException.class)
                .extracting(e -> ((ProblemException) e).status()).isEqualTo(400);
    }

    @Test
    void refusesOverlongTargets() {
        assertThatThrownBy(() -> policy.checkTarget("https://example.com/" + "a".repeat(TargetPolicy.MAX_TARGET_LENGTH)))
                .hasMessageContaining("longer than");
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://example.com/", "http://example.com:8080/a?b=c#d", "https://93.184.216.34/",
            "https://[2606:2800:220:1::]/", "HTTPS://Example.COM/Path"})
    void acceptsPublicHttpTargets(String target) {
        assertThat(policy.checkTarget(target)).startsWith("http");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ab", "-abc", "has space", "ünï", "abcdefghijabcdefghijabcdefghijabc", "api", "Metrics", "login", "ready"})
    void refusesBadOrReservedAliases(String alias) {
        assertThatThrownBy(() -> policy.checkAlias(alias)).isInstanceOf(ProblemException.class);
    }

    @Test
    void acceptsAliases() {
        assertThat(policy.checkAlias("launch-2026_q1")).isEqualTo("launch-2026_q1");
    }

    @Test
    void codesAreEightBase62DigitsAndDistinct() {
        CodeGenerator g = new CodeGenerator();
        Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String c = g.next();
            assertThat(c).hasSize(8);
            assertThat(Base62.isBase62(c)).isTrue();
            seen.add(c);
        }
        assertThat(seen).hasSize(10_000);
    }
}
