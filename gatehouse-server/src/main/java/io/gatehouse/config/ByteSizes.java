package io.gatehouse.config;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte counts as written in the config: a plain number of bytes ({@code 512}) or a number with a unit.
 * KiB/MiB/GiB/TiB are powers of 1024, KB/MB/GB/TB powers of 1000 (as disks and networks count), and the single
 * letters k/m/g mean KiB/MiB/GiB as in nginx's {@code client_max_body_size 10m}. Units are case-insensitive.
 */
public final class ByteSizes {
    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([A-Za-z]*)");
    private static final Map<String, Long> UNITS = Map.ofEntries(
            Map.entry("", 1L), Map.entry("b", 1L),
            Map.entry("k", 1L << 10), Map.entry("kib", 1L << 10), Map.entry("kb", 1_000L),
            Map.entry("m", 1L << 20), Map.entry("mib", 1L << 20), Map.entry("mb", 1_000_000L),
            Map.entry("g", 1L << 30), Map.entry("gib", 1L << 30), Map.entry("gb", 1_000_000_000L),
            Map.entry("t", 1L << 40), Map.entry("tib", 1L << 40), Map.entry("tb", 1_000_000_000_000L));

    private ByteSizes() {}

    /**
     * @throws IllegalArgumentException with a message fit to show the user
     */
    public static long parse(String text) {
        String s = text == null ? "" : text.strip();
        if (s.startsWith("-")) throw new IllegalArgumentException("a size cannot be negative, got '" + s + "'");
        Matcher m = SIZE.matcher(s);
        Long unit = m.matches() ? UNITS.get(m.group(2).toLowerCase(Locale.ROOT)) : null;
        if (unit == null) {
            throw new IllegalArgumentException("'" + s + "' is not a size; write e.g. 512, 64KiB, 10MiB or 1GiB"
                    + " (KiB/MiB/GiB count in 1024s, KB/MB/GB in 1000s)");
        }
        BigDecimal bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit));
        try {
            return bytes.longValueExact();
        } catch (ArithmeticException e) {
            if (bytes.stripTrailingZeros().scale() > 0) {
                throw new IllegalArgumentException("'" + s + "' is not a whole number of bytes");
            }
            throw new IllegalArgumentException("'" + s + "' is too large");
        }
    }
}
