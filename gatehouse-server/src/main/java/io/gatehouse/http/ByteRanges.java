package io.gatehouse.http;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@code Range: bytes=…} header against a representation of known length (RFC 9110 §14): one set of rules for
 * the cache's stored responses and the files action, over a length, since a file's parts are never held in memory.
 */
public final class ByteRanges {
    /** More ranges than this are answered with the whole file (RFC 9110 §14.2 allows ignoring Range). */
    public static final int MAX_RANGES = 16;

    private ByteRanges() {}

    /**
     * The satisfiable ranges as {@code [first, last]} (inclusive), in the order asked; an empty list when none is
     * satisfiable (416); null when the header is to be ignored (not bytes, malformed, too many, overlapping).
     */
    public static List<long[]> parse(String range, long length) {
        String v = range.strip();
        if (!v.regionMatches(true, 0, "bytes=", 0, 6)) return null;
        List<long[]> ranges = new ArrayList<>();
        boolean any = false;
        for (String spec : v.substring(6).split(",")) {
            String s = spec.strip();
            if (s.isEmpty()) continue;
            int dash = s.indexOf('-');
            if (dash < 0) return null;
            String a = s.substring(0, dash).strip(), b = s.substring(dash + 1).strip();
            if (!a.matches("\\d*") || !b.matches("\\d*") || (a.isEmpty() && b.isEmpty())) return null;
            any = true;
            long first, last;
            if (a.isEmpty()) {                  // suffix: the last N bytes
                long n = number(b);
                if (n == 0 || length == 0) continue;
                first = Math.max(0, length - n);
                last = length - 1;
            } else {
                first = number(a);
                if (!b.isEmpty() && number(b) < first) return null;   // invalid: the whole field is ignored
                last = b.isEmpty() ? length - 1 : Math.min(number(b), length - 1);
            }
            if (first >= length) continue;      // unsatisfiable on its own
            ranges.add(new long[]{first, last});
        }
        if (!any || ranges.size() > MAX_RANGES) return null;
        // overlapping ranges are a known amplification attack (RFC 9110 §14.2): serve the whole instead
        for (int i = 0; i < ranges.size(); i++) {
            for (int j = i + 1; j < ranges.size(); j++) {
                long[] x = ranges.get(i), y = ranges.get(j);
                if (x[0] <= y[1] && y[0] <= x[1]) return null;
            }
        }
        return ranges;
    }

    private static long number(String digits) {
        return digits.length() > 18 ? Long.MAX_VALUE : Long.parseLong(digits);
    }
}
