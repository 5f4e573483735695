package io.gatehouse.cache;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HTTP-date (RFC 9110 §5.6.7): recipients accept all three formats (IMF-fixdate, the obsolete RFC 850 and asctime);
 * anything else is invalid, which for {@code Expires} means "already expired" (RFC 9111 §5.3).
 */
public final class HttpDates {
    private static final String DAYS = "(Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
    private static final String LONG_DAYS = "(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)";
    private static final String MONTHS = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
    private static final String TIME = "(\\d{2}):(\\d{2}):(\\d{2})";
    private static final Pattern IMF = Pattern.compile(DAYS + ", (\\d{2}) " + MONTHS + " (\\d{4}) " + TIME + " GMT");
    private static final Pattern RFC850 = Pattern.compile(LONG_DAYS + ", (\\d{2})-" + MONTHS + "-(\\d{2}) " + TIME + " GMT");
    private static final Pattern ASCTIME = Pattern.compile(DAYS + " " + MONTHS + " ([ \\d]\\d) " + TIME + " (\\d{4})");
    private static final List<String> MONTH_NAMES = List.of("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec");
    private static final DateTimeFormatter FORMAT = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

    private HttpDates() {}

    /** Milliseconds since the epoch, or null if {@code value} is not an HTTP-date. */
    public static Long parse(String value) {
        if (value == null) return null;
        String v = value.strip();
        try {
            Matcher m = IMF.matcher(v);
            if (m.matches()) return at(Integer.parseInt(m.group(4)), m.group(3), m.group(2), m.group(5), m.group(6), m.group(7));
            m = RFC850.matcher(v);
            if (m.matches()) {
                int yy = Integer.parseInt(m.group(4));
                // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is in the past century
                int thisYear = LocalDateTime.now(ZoneOffset.UTC).getYear();
                int year = (thisYear / 100) * 100 + yy;
                if (year > thisYear + 50) year -= 100;
                return at(year, m.group(3), m.group(2), m.group(5), m.group(6), m.group(7));
            }
            m = ASCTIME.matcher(v);
            if (m.matches()) return at(Integer.parseInt(m.group(7)), m.group(2), m.group(3).strip(), m.group(4), m.group(5), m.group(6));
        } catch (java.time.DateTimeException e) {
            return null;   // 31 Feb, 25:00:00
        }
        return null;
    }

    private static long at(int year, String month, String day, String h, String min, String s) {
        return LocalDateTime.of(year, MONTH_NAMES.indexOf(month) + 1, Integer.parseInt(day), Integer.parseInt(h),
                Integer.parseInt(min), Integer.parseInt(s)).toInstant(ZoneOffset.UTC).toEpochMilli();
    }

    /** IMF-fixdate of {@code millis}. */
    public static String format(long millis) {
        return FORMAT.format(java.time.Instant.ofEpochMilli(millis));
    }
}
