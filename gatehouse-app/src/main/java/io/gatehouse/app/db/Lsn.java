package io.gatehouse.app.db;

/** A PostgreSQL WAL position ({@code 16/B374D848}), comparable as an unsigned 64-bit number. */
public record Lsn(long value) implements Comparable<Lsn> {

    public static Lsn parse(String text) {
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1 || text.length() > 17) throw new IllegalArgumentException("not an LSN: " + text);
        long hi = Long.parseLong(text.substring(0, slash), 16);
        long lo = Long.parseLong(text.substring(slash + 1), 16);
        if (hi > 0xffffffffL || lo > 0xffffffffL) throw new IllegalArgumentException("not an LSN: " + text);
        return new Lsn(hi << 32 | lo);
    }

    /** Null for null or malformed text: a client-supplied token never fails a request, it only loses its hint. */
    public static Lsn parseOrNull(String text) {
        if (text == null || text.isEmpty()) return null;
        try {
            return parse(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    public boolean atLeast(Lsn other) {
        return compareTo(other) >= 0;
    }

    @Override
    public int compareTo(Lsn o) {
        return Long.compareUnsigned(value, o.value);
    }

    @Override
    public String toString() {
        return Long.toHexString(value >>> 32).toUpperCase() + "/" + Long.toHexString(value & 0xffffffffL).toUpperCase();
    }
}
