package io.gatehouse.telemetry;

import java.io.IOException;
import java.io.Writer;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Formats access log lines straight into the writer's reused builder. The text is byte for byte what Jackson's
 * generator, {@code Instant.toString}, {@code Double.toString} and a {@link DateTimeFormatter} printed before
 * (AccessLogLinesTest holds it to that); building it by hand leaves no garbage per line: no generator, no
 * {@code Instant}, no number or date strings, no path+query concatenation.
 */
final class AccessLogLines {
    private static final DateTimeFormatter COMBINED_TIME =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH).withZone(ZoneOffset.UTC);
    private static final String[] MONTHS = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();
    /** 10000-01-01T00:00:00Z: later times (and those before 1970) are rare enough to go through java.time. */
    private static final long FAST_TIME_END = 253_402_300_800_000L;
    /**
     * Below this many nanoseconds (11.6 days) the integer rounding equals the old {@code Math.round(nanos / 1e3)}
     * and the printed decimal equals {@code Double.toString} of the old double (12 significant digits at most, which
     * a double holds exactly); beyond it the old double arithmetic is kept.
     */
    private static final long EXACT_NANOS = 1_000_000_000_000_000L;
    /** 1e7 ms in microseconds: from here {@code Double.toString} switches to computerized scientific notation. */
    private static final long SCIENTIFIC_MICROS = 10_000_000_000L;

    private AccessLogLines() {}

    /** The writer thread's line, reused: formatted into a builder, handed to the Writer as chars it copies. */
    static final class Buffer {
        private final StringBuilder line = new StringBuilder(512);
        private char[] chars = new char[512];

        void write(AccessLog.Entry e, boolean json, Writer out) throws IOException {
            line.setLength(0);
            if (json) json(e, line); else combined(e, line);
            line.append('\n');
            int length = line.length();
            if (length > chars.length) chars = new char[Math.max(length, chars.length * 2)];
            line.getChars(0, length, chars, 0);
            out.write(chars, 0, length);
        }
    }

    /** One JSON object, fields in the documented order, no spaces (as Jackson's default generator wrote it). */
    static void json(AccessLog.Entry e, StringBuilder to) {
        to.append("{\"time\":\"");
        isoInstant(e.epochMillis(), to);
        to.append("\",\"client_ip\":");
        string(e.clientIp(), to);
        to.append(",\"method\":");
        string(e.method(), to);
        to.append(",\"path\":");
        if (e.query() == null) {
            string(e.path(), to);
        } else {
            to.append('"');
            escaped(String.valueOf(e.path()), to); // as the old path + "?" + query printed a missing path
            to.append('?');
            escaped(e.query(), to);
            to.append('"');
        }
        to.append(",\"protocol\":");
        string(e.protocol(), to);
        to.append(",\"status\":").append(e.status());
        to.append(",\"request_bytes\":").append(e.requestBytes());
        to.append(",\"response_bytes\":").append(e.responseBytes());
        to.append(",\"endpoint\":");
        string(e.endpoint(), to);
        to.append(",\"endpoint_ms\":");
        if (e.endpointNanos() >= 0) millis(e.endpointNanos(), to); else to.append("null");
        to.append(",\"duration_ms\":");
        millis(e.totalNanos(), to);
        to.append(",\"retries\":").append(e.retries());
        to.append(",\"request_id\":");
        string(e.requestId(), to);
        to.append(",\"user_agent\":");
        string(e.userAgent(), to);
        to.append(",\"referer\":");
        string(e.referer(), to);
        to.append(",\"listener\":");
        string(e.listener(), to);
        to.append(",\"route\":");
        string(e.route(), to);
        to.append(",\"cluster\":");
        string(e.cluster(), to);
        to.append(",\"reason\":");
        string(e.reason(), to);
        to.append('}');
    }

    /** nginx "combined": {@code $remote_addr - - [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"}. */
    static void combined(AccessLog.Entry e, StringBuilder to) {
        to.append(e.clientIp()).append(" - - [");
        combinedTime(e.epochMillis(), to);
        to.append("] \"");
        if (e.method() == null) {
            to.append('-');
        } else {
            to.append(e.method()).append(' ');
            quoted(String.valueOf(e.path()), to);
            if (e.query() != null) {
                to.append('?');
                quoted(e.query(), to);
            }
            to.append(' ').append(e.protocol());
        }
        to.append("\" ").append(e.status()).append(' ').append(e.responseBytes()).append(" \"");
        quoted(e.referer() == null ? "-" : e.referer(), to);
        to.append("\" \"");
        quoted(e.userAgent() == null ? "-" : e.userAgent(), to);
        to.append('"');
    }

    /** A JSON string, or null. */
    private static void string(String s, StringBuilder to) {
        if (s == null) {
            to.append("null");
            return;
        }
        to.append('"');
        escaped(s, to);
        to.append('"');
    }

    /** JSON string content escaped as Jackson does by default: short forms where JSON has them, else backslash-u00XX. */
    private static void escaped(String s, StringBuilder to) {
        int from = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c != '"' && c != '\\') continue;
            to.append(s, from, i);
            from = i + 1;
            switch (c) {
                case '"' -> to.append("\\\"");
                case '\\' -> to.append("\\\\");
                case '\b' -> to.append("\\b");
                case '\t' -> to.append("\\t");
                case '\n' -> to.append("\\n");
                case '\f' -> to.append("\\f");
                case '\r' -> to.append("\\r");
                default -> to.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
            }
        }
        to.append(s, from, s.length());
    }

    /** Escapes what would break the line or its quoting (as nginx does with \xHH). */
    private static void quoted(String s, StringBuilder to) {
        int from = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) {
                to.append(s, from, i).append("\\x").append(HEX[c >> 4]).append(HEX[c & 0xF]);
                from = i + 1;
            }
        }
        to.append(s, from, s.length());
    }

    /**
     * Nanoseconds as milliseconds to the microsecond, printed as {@code Double.toString} printed the old
     * {@code Math.round(nanos / 1_000.0) / 1_000.0}: "0.0", "1.5", "12.345", and from 1e7 ms "1.2345678E7".
     */
    static void millis(long nanos, StringBuilder to) {
        if (nanos >= EXACT_NANOS || nanos <= -EXACT_NANOS) {
            to.append(Math.round(nanos / 1_000.0) / 1_000.0);
            return;
        }
        long micros = Math.floorDiv(nanos + 500, 1_000); // half up, as Math.round
        if (micros < 0) {
            to.append('-');
            micros = -micros;
        }
        if (micros < SCIENTIFIC_MICROS) {
            to.append(micros / 1_000).append('.');
            int fraction = (int) (micros % 1_000);
            if (fraction == 0) {
                to.append('0');
            } else {
                // three digits, trailing zeros dropped
                int digits = 3;
                while (fraction % 10 == 0) {
                    fraction /= 10;
                    digits--;
                }
                digits(fraction, digits, to);
            }
            return;
        }
        // d.dddE<exponent>: the significant digits (trailing zeros dropped), at least one after the point
        int length = 1;
        for (long p = 10; p <= micros; p *= 10) length++;
        int exponent = length - 1 - 3;
        long significant = micros;
        int digits = length;
        while (significant % 10 == 0) {
            significant /= 10;
            digits--;
        }
        long scale = 1;
        for (int i = 1; i < digits; i++) scale *= 10;
        to.append(significant / scale).append('.');
        if (digits == 1) to.append('0');
        else digits(significant % scale, digits - 1, to);
        to.append('E').append(exponent);
    }

    /** {@code value} as exactly {@code count} digits, zero-padded on the left. */
    private static void digits(long value, int count, StringBuilder to) {
        long scale = 1;
        for (int i = 1; i < count; i++) scale *= 10;
        for (; scale > 0; scale /= 10) to.append((char) ('0' + (value / scale) % 10));
    }

    /** As {@code Instant.ofEpochMilli(ms).toString()}: {@code 2026-12-07T10:15:30Z}, milliseconds only when not zero. */
    static void isoInstant(long epochMillis, StringBuilder to) {
        if (epochMillis < 0 || epochMillis >= FAST_TIME_END) {
            to.append(Instant.ofEpochMilli(epochMillis));
            return;
        }
        long days = epochMillis / 86_400_000L;
        int ms = (int) (epochMillis % 86_400_000L);
        date(days, '-', to, false);
        to.append('T');
        clock(ms / 1_000, to);
        int fraction = ms % 1_000;
        if (fraction != 0) {
            to.append('.');
            digits(fraction, 3, to);
        }
        to.append('Z');
    }

    /** As the "dd/MMM/yyyy:HH:mm:ss Z" formatter in UTC: {@code 07/Dec/2026:10:15:30 +0000}. */
    static void combinedTime(long epochMillis, StringBuilder to) {
        if (epochMillis < 0 || epochMillis >= FAST_TIME_END) {
            COMBINED_TIME.formatTo(Instant.ofEpochMilli(epochMillis), to);
            return;
        }
        long days = epochMillis / 86_400_000L;
        date(days, '/', to, true);
        to.append(':');
        clock((int) (epochMillis % 86_400_000L) / 1_000, to);
        to.append(" +0000");
    }

    /**
     * The civil date of a day count since 1970-01-01 (H. Hinnant's days-to-civil), as yyyy-MM-dd or, for the
     * combined format, dd/MMM/yyyy.
     */
    private static void date(long days, char separator, StringBuilder to, boolean dayFirst) {
        long z = days + 719_468;
        long era = z / 146_097; // z >= 0 from 1970 on
        long dayOfEra = z - era * 146_097;
        long yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        long mp = (5 * dayOfYear + 2) / 153;
        int day = (int) (dayOfYear - (153 * mp + 2) / 5 + 1);
        int month = (int) (mp < 10 ? mp + 3 : mp - 9);
        long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
        if (dayFirst) {
            digits(day, 2, to);
            to.append(separator).append(MONTHS[month - 1]).append(separator);
            digits(year, 4, to);
        } else {
            digits(year, 4, to);
            to.append(separator);
            digits(month, 2, to);
            to.append(separator);
            digits(day, 2, to);
        }
    }

    private static void clock(int secondOfDay, StringBuilder to) {
        digits(secondOfDay / 3_600, 2, to);
        to.append(':');
        digits(secondOfDay / 60 % 60, 2, to);
        to.append(':');
        digits(secondOfDay % 60, 2, to);
    }
}
