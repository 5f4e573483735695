package io.gatehouse.config;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as written in the config: a sequence of number+unit parts such as {@code 250ms}, {@code 5s},
 * {@code 1m30s}, {@code 1.5h}, {@code 7d}, or {@code 0}. Units: ns, us (or µs), ms, s, m, h, d (24 h).
 * A bare number other than 0 is rejected: "30" is too easy to mean seconds in one place and milliseconds in another.
 */
public final class Durations {
    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h|d)");
    private static final Pattern BARE = Pattern.compile("-?\\d+(?:\\.\\d+)?");
    private static final Map<String, Long> NANOS = Map.of(
            "ns", 1L, "us", 1_000L, "µs", 1_000L, "ms", 1_000_000L, "s", 1_000_000_000L,
            "m", 60_000_000_000L, "h", 3_600_000_000_000L, "d", 86_400_000_000_000L);

    private Durations() {}

    /**
     * @throws IllegalArgumentException with a message fit to show the user
     */
    public static Duration parse(String text) {
        String s = text == null ? "" : text.strip();
        if (s.equals("0")) return Duration.ZERO;
        if (s.startsWith("-")) throw new IllegalArgumentException("a duration cannot be negative, got '" + s + "'");
        if (BARE.matcher(s).matches()) {
            throw new IllegalArgumentException("'" + s + "' has no unit; write e.g. " + s + "s or " + s + "ms (units: ms, s, m, h, d)");
        }
        Matcher m = PART.matcher(s);
        BigDecimal nanos = BigDecimal.ZERO;
        int at = 0;
        while (at < s.length()) {
            if (!m.find(at) || m.start() != at) {
                throw new IllegalArgumentException("'" + s + "' is not a duration; write e.g. 250ms, 5s, 1m30s or 1h");
            }
            nanos = nanos.add(new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(NANOS.get(m.group(2)))));
            at = m.end();
        }
        if (s.isEmpty()) throw new IllegalArgumentException("expected a duration such as 5s, got an empty value");
        try {
            return Duration.ofNanos(nanos.setScale(0, java.math.RoundingMode.HALF_UP).longValueExact());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("'" + s + "' is too long a duration (at most about 292 years)");
        }
    }

    /** The shortest config spelling of a duration, e.g. {@code 1m30s}, {@code 250ms}, {@code 0}. */
    public static String format(Duration d) {
        if (d.isZero()) return "0";
        long n = d.toNanos();
        StringBuilder sb = new StringBuilder();
        long[] sizes = {86_400_000_000_000L, 3_600_000_000_000L, 60_000_000_000L, 1_000_000_000L, 1_000_000L, 1_000L, 1L};
        String[] units = {"d", "h", "m", "s", "ms", "us", "ns"};
        for (int i = 0; i < sizes.length; i++) {
            if (n >= sizes[i]) {
                sb.append(n / sizes[i]).append(units[i]);
                n %= sizes[i];
            }
        }
        return sb.toString();
    }
}
