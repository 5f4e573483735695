package io.gatehouse.telemetry;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The hand-built lines are byte for byte what the old code printed: {@link Old} is that code (Jackson's generator,
 * {@code Double.toString} of the rounded milliseconds, {@code Instant.toString}, a {@link DateTimeFormatter}), kept
 * here as the reference.
 */
class AccessLogLinesTest {
    private static final long DAY_MS = 86_400_000L;

    /** The formatting as it was before the lines were built by hand. */
    static final class Old {
        private static final JsonFactory JSON = new JsonFactory();
        private static final DateTimeFormatter COMBINED_TIME =
                DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH).withZone(ZoneOffset.UTC);

        static String json(AccessLog.Entry e) throws IOException {
            StringWriter to = new StringWriter();
            try (JsonGenerator g = JSON.createGenerator(to)) {
                g.writeStartObject();
                g.writeStringField("time", Instant.ofEpochMilli(e.epochMillis()).toString());
                g.writeStringField("client_ip", e.clientIp());
                g.writeStringField("method", e.method());
                g.writeStringField("path", e.query() == null ? e.path() : e.path() + "?" + e.query());
                g.writeStringField("protocol", e.protocol());
                g.writeNumberField("status", e.status());
                g.writeNumberField("request_bytes", e.requestBytes());
                g.writeNumberField("response_bytes", e.responseBytes());
                g.writeStringField("endpoint", e.endpoint());
                if (e.endpointNanos() >= 0) g.writeNumberField("endpoint_ms", millis(e.endpointNanos()));
                else g.writeNullField("endpoint_ms");
                g.writeNumberField("duration_ms", millis(e.totalNanos()));
                g.writeNumberField("retries", e.retries());
                g.writeStringField("request_id", e.requestId());
                g.writeStringField("user_agent", e.userAgent());
                g.writeStringField("referer", e.referer());
                g.writeStringField("listener", e.listener());
                g.writeStringField("route", e.route());
                g.writeStringField("cluster", e.cluster());
                g.writeStringField("reason", e.reason());
                g.writeEndObject();
            }
            return to.toString();
        }

        static String combined(AccessLog.Entry e) {
            StringBuffer to = new StringBuffer();
            to.append(e.clientIp()).append(" - - [").append(COMBINED_TIME.format(Instant.ofEpochMilli(e.epochMillis()))).append("] \"");
            if (e.method() == null) {
                to.append('-');
            } else {
                to.append(e.method()).append(' ');
                quoted(e.query() == null ? e.path() : e.path() + "?" + e.query(), to);
                to.append(' ').append(e.protocol());
            }
            to.append("\" ").append(e.status()).append(' ').append(e.responseBytes()).append(" \"");
            quoted(e.referer() == null ? "-" : e.referer(), to);
            to.append("\" \"");
            quoted(e.userAgent() == null ? "-" : e.userAgent(), to);
            to.append('"');
            return to.toString();
        }

        private static void quoted(String s, StringBuffer to) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) to.append(String.format("\\x%02X", (int) c));
                else to.append(c);
            }
        }

        static double millis(long nanos) {
            return Math.round(nanos / 1_000.0) / 1_000.0;
        }
    }

    private static String millis(long nanos) {
        StringBuilder b = new StringBuilder();
        AccessLogLines.millis(nanos, b);
        return b.toString();
    }

    private static String json(AccessLog.Entry e) {
        StringBuilder b = new StringBuilder();
        AccessLogLines.json(e, b);
        return b.toString();
    }

    private static String combined(AccessLog.Entry e) {
        StringBuilder b = new StringBuilder();
        AccessLogLines.combined(e, b);
        return b.toString();
    }

    private static AccessLog.Entry entry(long epochMillis, String path, String query, long endpointNanos, long totalNanos,
                                         String text) {
        return new AccessLog.Entry(epochMillis, "203.0.113.7", "GET", path, query, "HTTP/1.1", 200, 12, 3456,
                "10.0.0.5:8080", endpointNanos, totalNanos, 1, text, text, text, "edge", "api", "app", text);
    }

    @Test
    void millisecondsPrintAsTheOldDoubleDidAtTheEdges() {
        long[] edges = {
                0, 1, 499, 500, 501, 999, 1_000, 1_001, 1_499, 1_500, 1_501, 2_500, 10_000, 100_000, 120_000, 999_499,
                999_500, 999_999, 1_000_000, 1_000_500, 1_234_567, 1_234_500, 12_345_678, 100_000_000, 1_000_000_000,
                9_999_999_999_499L, 9_999_999_999_500L, 10_000_000_000_000L, 10_000_000_001_000L, 12_345_678_901_234L,
                123_456_789_012_345L, 999_999_999_999_499L, 999_999_999_999_500L, 999_999_999_999_999L,
                1_000_000_000_000_000L, 1_234_567_890_123_456_789L, Long.MAX_VALUE, -1, -499, -500, -501, -1_500,
                -2_500, -1_234_567, -10_000_000_000_000L, -999_999_999_999_999L, Long.MIN_VALUE};
        for (long nanos : edges) {
            assertThat(millis(nanos)).as("%d ns", nanos).isEqualTo(Double.toString(Old.millis(nanos)));
        }
        // the documented shapes, spelled out
        assertThat(millis(0)).isEqualTo("0.0");
        assertThat(millis(499)).isEqualTo("0.0");
        assertThat(millis(500)).isEqualTo("0.001");
        assertThat(millis(1_500_000)).isEqualTo("1.5");
        assertThat(millis(1_234_567)).isEqualTo("1.235");
        assertThat(millis(1_000_000)).isEqualTo("1.0");
        assertThat(millis(9_999_999_999_499L)).isEqualTo("9999999.999");
        assertThat(millis(9_999_999_999_500L)).isEqualTo("1.0E7");
        assertThat(millis(12_345_678_901_234L)).isEqualTo("1.2345678901E7");
    }

    @Test
    void millisecondsPrintAsTheOldDoubleDidAcrossEveryMagnitude() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 200_000; i++) {
            long nanos = random.nextLong(1L << random.nextInt(1, 63));
            if (i % 5 == 0) nanos = nanos / 1_000 * 1_000 + 500; // exactly half a microsecond: the rounding edge
            if (i % 7 == 0) nanos = -nanos;
            assertThat(millis(nanos)).as("%d ns", nanos).isEqualTo(Double.toString(Old.millis(nanos)));
        }
    }

    @Test
    void timesPrintAsInstantAndTheCombinedFormatterDid() {
        long[] edges = {0, 1, 999, 1_000, 59_999, DAY_MS - 1, DAY_MS, 951_782_400_000L /* 2000-02-29 */,
                4_107_542_400_000L /* 2100-03-01 */, 1_764_921_600_123L, 253_402_300_799_999L, 253_402_300_800_000L,
                -1, -DAY_MS, -62_167_219_200_000L, 300_000_000_000_000L};
        for (long ms : edges) assertTimesMatch(ms);
        // every day from 1967 to 2106 (leap days, 2000, 2100) at a random time of day; then random times up to
        // year 14645 and back to 1199 BC (before 1970 and after 9999, the lines go through java.time)
        SplittableRandom random = new SplittableRandom(11);
        for (long day = -1_100; day < 50_000; day++) assertTimesMatch(day * DAY_MS + random.nextLong(DAY_MS));
        for (int i = 0; i < 30_000; i++) assertTimesMatch(random.nextLong(-100_000_000_000_000L, 400_000_000_000_000L));
    }

    private static void assertTimesMatch(long ms) {
        StringBuilder iso = new StringBuilder();
        AccessLogLines.isoInstant(ms, iso);
        assertThat(iso.toString()).as("%d ms", ms).isEqualTo(Instant.ofEpochMilli(ms).toString());
        StringBuilder combined = new StringBuilder();
        AccessLogLines.combinedTime(ms, combined);
        assertThat(combined.toString()).as("%d ms", ms).isEqualTo(Old.COMBINED_TIME.format(Instant.ofEpochMilli(ms)));
    }

    @Test
    void wholeLinesMatchTheOldOnesForEveryCharacterAndMissingField() throws Exception {
        // every UTF-16 code unit, in chunks, in each string field (controls, quotes, backslash, DEL, non-ASCII, lone surrogates)
        for (int from = 0; from < 0x10000; from += 512) {
            StringBuilder text = new StringBuilder();
            for (int c = from; c < from + 512; c++) text.append((char) c);
            String s = text.toString();
            AccessLog.Entry e = entry(1_764_921_600_123L, "/p/" + s, s, 1_234_567, 2_000_000, s);
            assertThat(json(e)).isEqualTo(Old.json(e));
            assertThat(combined(e)).isEqualTo(Old.combined(e));
        }
        AccessLog.Entry nothing = new AccessLog.Entry(0, "127.0.0.1", null, null, null, null, 400, 0, 0, null, -1, 0, 0,
                null, null, null, "edge", null, null, "space before colon");
        assertThat(json(nothing)).isEqualTo(Old.json(nothing));
        assertThat(combined(nothing)).isEqualTo(Old.combined(nothing));
        AccessLog.Entry noPath = new AccessLog.Entry(0, null, null, null, "q=1", null, 0, 0, 0, null, -1, -5, 0,
                null, null, null, null, null, null, null);
        assertThat(json(noPath)).isEqualTo(Old.json(noPath));
        AccessLog.Entry plain = entry(1_764_921_600_000L, "/a", null, 0, 9_999_999_999_500L, "x");
        assertThat(json(plain)).isEqualTo(Old.json(plain)).contains("\"endpoint_ms\":0.0,\"duration_ms\":1.0E7,");
        assertThat(combined(plain)).isEqualTo(Old.combined(plain));
        assertThat(new ObjectMapper().readTree(json(plain)).get("time").asText()).isEqualTo("2025-12-05T08:00:00Z");
    }

    @Test
    void randomLinesMatchTheOldOnes() throws Exception {
        SplittableRandom random = new SplittableRandom(3);
        String alphabet = "aZ09/?&=%-_.~ \"\\\t\n\r\b\f\u0000\u001f\u007f\u00e9\u2028\ud83d\ude00";
        for (int i = 0; i < 5_000; i++) {
            String[] s = new String[4];
            for (int k = 0; k < s.length; k++) {
                if (random.nextInt(8) == 0) continue; // a missing field
                StringBuilder b = new StringBuilder();
                for (int n = random.nextInt(12); n > 0; n--) b.append(alphabet.charAt(random.nextInt(alphabet.length())));
                s[k] = b.toString();
            }
            long ms = random.nextLong(0, 4_102_444_800_000L);
            long total = random.nextLong(1L << random.nextInt(1, 50));
            long endpoint = random.nextBoolean() ? -1 : random.nextLong(total + 1);
            String path = s[0] == null ? "/" : "/" + s[0];
            AccessLog.Entry e = new AccessLog.Entry(ms, "198.51.100." + random.nextInt(256), random.nextBoolean() ? "GET" : "POST",
                    path, s[1], "HTTP/2.0", random.nextInt(100, 600), random.nextLong(1L << 40), random.nextLong(1L << 40),
                    s[2], endpoint, total, random.nextInt(4), s[3], s[1], s[2], "edge", s[3], s[0], s[3]);
            assertThat(json(e)).isEqualTo(Old.json(e));
            assertThat(combined(e)).isEqualTo(Old.combined(e));
        }
    }
}
