package io.gatehouse.http;

import io.netty.util.AsciiString;

import java.util.concurrent.ThreadLocalRandom;

/** X-Request-Id: a client's own kept when it is sane, otherwise one made here. */
public final class RequestIds {
    public static final AsciiString HEADER = AsciiString.cached("x-request-id");
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private RequestIds() {}

    /** Printable ASCII, 1 to 128 characters: what may travel on in headers and logs. */
    public static boolean valid(CharSequence id) {
        if (id == null || id.isEmpty() || id.length() > 128) return false;
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c < 0x21 || c > 0x7e) return false;
        }
        return true;
    }

    /** 128 random bits as 32 hex characters, as ASCII bytes (no UUID formatting, no char[] → String copy). */
    public static AsciiString next() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long a = r.nextLong(), b = r.nextLong();
        byte[] out = new byte[32];
        for (int i = 0; i < 16; i++) {
            out[i] = HEX[(int) (a >>> (60 - 4 * i)) & 0xF];
            out[16 + i] = HEX[(int) (b >>> (60 - 4 * i)) & 0xF];
        }
        return new AsciiString(out, false);
    }
}
