package io.gatehouse.app.links;

/** Base62 (0-9, A-Z, a-z): short, URL-safe without escaping, and case-sensitive like every path. */
final class Base62 {
    static final String ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private Base62() {}

    /** Exactly {@code length} digits of {@code value} (which must fit), most significant first. */
    static String encode(long value, int length) {
        if (value < 0) throw new IllegalArgumentException("negative");
        char[] out = new char[length];
        for (int i = length - 1; i >= 0; i--) {
            out[i] = ALPHABET.charAt((int) (value % 62));
            value /= 62;
        }
        if (value != 0) throw new IllegalArgumentException("does not fit in " + length + " digits");
        return new String(out);
    }

    static boolean isBase62(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (ALPHABET.indexOf(s.charAt(i)) < 0) return false;
        }
        return !s.isEmpty();
    }
}
