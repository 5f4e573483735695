package io.gatehouse.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Durations, sizes, addresses, CIDRs and suggestions: the small parsers the loader is built from. */
class ConfigValuesTest {

    @Test
    void durationsTakeUnitsAndCombinations() {
        assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(Durations.parse("5s")).isEqualTo(Duration.ofSeconds(5));
        assertThat(Durations.parse("1m")).isEqualTo(Duration.ofMinutes(1));
        assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
        assertThat(Durations.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
        assertThat(Durations.parse("100us")).isEqualTo(Duration.ofNanos(100_000));
        assertThat(Durations.parse("0")).isEqualTo(Duration.ZERO);
        assertThat(Durations.format(Duration.ofSeconds(90))).isEqualTo("1m30s");
        assertThat(Durations.format(Duration.ofMillis(250))).isEqualTo("250ms");
    }

    @Test
    void bareNumbersOtherThanZeroAreRejectedWithAHint() {
        assertThatThrownBy(() -> Durations.parse("30")).hasMessage("'30' has no unit; write e.g. 30s or 30ms (units: ms, s, m, h, d)");
        assertThatThrownBy(() -> Durations.parse("5 s")).hasMessageContaining("is not a duration");
        assertThatThrownBy(() -> Durations.parse("s")).hasMessageContaining("is not a duration");
        assertThatThrownBy(() -> Durations.parse("")).hasMessageContaining("empty");
    }

    @Test
    void sizesCountKibibytesIn1024sAndKilobytesIn1000s() {
        assertThat(ByteSizes.parse("512")).isEqualTo(512);
        assertThat(ByteSizes.parse("10KiB")).isEqualTo(10_240);
        assertThat(ByteSizes.parse("10MiB")).isEqualTo(10L << 20);
        assertThat(ByteSizes.parse("1GiB")).isEqualTo(1L << 30);
        assertThat(ByteSizes.parse("10KB")).isEqualTo(10_000);
        assertThat(ByteSizes.parse("10MB")).isEqualTo(10_000_000);
        assertThat(ByteSizes.parse("1GB")).isEqualTo(1_000_000_000);
        assertThat(ByteSizes.parse("10m")).isEqualTo(10L << 20);
        assertThat(ByteSizes.parse("1.5 KiB")).isEqualTo(1536);
        assertThatThrownBy(() -> ByteSizes.parse("10 parsecs")).hasMessageContaining("is not a size");
        assertThatThrownBy(() -> ByteSizes.parse("99999999TiB")).hasMessage("'99999999TiB' is too large");
    }

    @Test
    void hostPortAcceptsNamesIpv4AndBracketedIpv6() {
        assertThat(HostPort.parse("10.0.0.1:8080", false)).isEqualTo(new HostPort("10.0.0.1", 8080));
        assertThat(HostPort.parse("[2001:db8::1]:443", false)).isEqualTo(new HostPort("2001:db8::1", 443));
        assertThat(HostPort.parse("[2001:db8::1]:443", false).toString()).isEqualTo("[2001:db8::1]:443");
        assertThat(HostPort.parse("backend-1.internal:80", false).host()).isEqualTo("backend-1.internal");
        assertThat(HostPort.parse("0.0.0.0:0", true).isWildcard()).isTrue();
        assertThatThrownBy(() -> HostPort.parse("127.0.0.1:0", false)).hasMessageContaining("only for addresses to listen on");
        assertThatThrownBy(() -> HostPort.parse("[::1]", true)).hasMessageContaining("missing port");
        assertThatThrownBy(() -> HostPort.parse("[nothex]:80", true)).hasMessageContaining("is not an IPv6 address");
        assertThatThrownBy(() -> HostPort.parse("host:http", true)).hasMessage("'http' is not a port; expected 1..65535");
    }

    @Test
    void wildcardsCollideWithTheirFamilyOnTheSamePort() {
        HostPort any4 = new HostPort("0.0.0.0", 80);
        HostPort any6 = new HostPort("::", 80);
        assertThat(ConfigChecks.collide(any4, new HostPort("127.0.0.1", 80))).isTrue();
        assertThat(ConfigChecks.collide(any4, new HostPort("::1", 80))).isFalse();
        assertThat(ConfigChecks.collide(any6, new HostPort("127.0.0.1", 80))).isTrue();
        assertThat(ConfigChecks.collide(new HostPort("127.0.0.1", 80), new HostPort("127.0.0.2", 80))).isFalse();
        assertThat(ConfigChecks.collide(any4, new HostPort("127.0.0.1", 81))).isFalse();
        assertThat(ConfigChecks.collide(new HostPort("127.0.0.1", 0), new HostPort("127.0.0.1", 0))).isFalse();
        assertThat(ConfigChecks.collide(new HostPort("::1", 80), new HostPort("0:0:0:0:0:0:0:1", 80))).isTrue();
    }

    @Test
    void cidrsMustHaveNoHostBits() {
        assertThat(ConfigChecks.cidrError("10.0.0.0/8")).isNull();
        assertThat(ConfigChecks.cidrError("fd00::/8")).isNull();
        assertThat(ConfigChecks.cidrError("192.168.1.10")).isNull();
        assertThat(ConfigChecks.cidrError("10.1.0.0/8")).isEqualTo("'10.1.0.0/8' has host bits set; did you mean 10.0.0.0/8?");
        assertThat(ConfigChecks.cidrError("10.0.0.0/33")).contains("invalid prefix length");
    }

    @Test
    void suggestionsFindTyposTranspositionsAndCamelCase() {
        List<String> keys = List.of("health_check", "healthy_threshold", "endpoints", "name");
        assertThat(ClosestMatch.among("helth_check", keys)).isEqualTo("health_check");
        assertThat(ClosestMatch.among("healthCheck", keys)).isEqualTo("health_check");
        assertThat(ClosestMatch.among("endpoitns", keys)).isEqualTo("endpoints");
        assertThat(ClosestMatch.among("flux_capacitor", keys)).isNull();
        assertThat(ClosestMatch.distance("ab", "ba")).isEqualTo(1);
    }

    @Test
    void aClosedSetValueIsSuggestedOnlyWhenItIsNearAloneAndKeepsTheDigits() {
        List<String> protocols = List.of("http1", "h2", "h2c");
        assertThat(ClosestMatch.choice("htp1", protocols)).isEqualTo("http1");
        assertThat(ClosestMatch.choice("H2C", protocols)).isEqualTo("h2c");
        assertThat(ClosestMatch.choice("http2", protocols)).as("a digit is a meaning, not a typo").isNull();
        assertThat(ClosestMatch.choice("h2s", protocols)).as("as near h2 as h2c").isNull();
        assertThat(ClosestMatch.choice("spdy", protocols)).isNull();
        List<String> conditions = List.of("502", "503", "504", "reset", "timeout");
        assertThat(ClosestMatch.choice("500", conditions)).isNull();
        assertThat(ClosestMatch.choice("rest", conditions)).isEqualTo("reset");
        assertThat(ClosestMatch.choice("tmeout", conditions)).isEqualTo("timeout");
        assertThat(ClosestMatch.choice("tiemouts", conditions)).as("two edits in a long word").isEqualTo("timeout");
        assertThat(ClosestMatch.choice("reload", conditions)).isNull();
    }

    @Test
    void closedSetsAcceptEverySpellingAndAliasInAnyCaseAndNothingElse() {
        assertThat(ClosedSets.parse(TlsVersion.class, "1.2")).isEqualTo(TlsVersion.TLS_1_2);
        assertThat(ClosedSets.parse(TlsVersion.class, " TLSv1.3 ")).isEqualTo(TlsVersion.TLS_1_3);
        assertThat(ClosedSets.parse(TlsVersion.class, "tlsv1.2")).isEqualTo(TlsVersion.TLS_1_2);
        assertThat(ClosedSets.parse(AlpnProtocol.class, "http/1.1")).isEqualTo(AlpnProtocol.HTTP_1_1);
        assertThat(ClosedSets.parse(AlpnProtocol.class, "H2")).isEqualTo(AlpnProtocol.H2);
        for (RetryCondition c : RetryCondition.values()) assertThat(ClosedSets.parse(RetryCondition.class, c.spelling())).isEqualTo(c);
        assertThat(ClosedSets.parse(ClusterProtocol.class, "H2C")).isEqualTo(ClusterProtocol.H2C);
        assertThat(ClosedSets.parse(RateLimitConfig.Mode.class, "hybrid")).isEqualTo(RateLimitConfig.Mode.HYBRID);
        assertThatThrownBy(() -> ClosedSets.parse(TlsVersion.class, "TLS_1_2")).hasMessage("'TLS_1_2' is not one of 1.2, 1.3");
        assertThatThrownBy(() -> ClosedSets.parse(AlpnProtocol.class, "HTTP_1_1")).hasMessageStartingWith("'HTTP_1_1' is not one of h2, http/1.1");
        assertThat(RetryCondition.forStatus(503)).isEqualTo(RetryCondition.STATUS_503);
        assertThat(RetryCondition.forStatus(500)).isNull();
    }
}
