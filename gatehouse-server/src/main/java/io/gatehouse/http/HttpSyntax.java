package io.gatehouse.http;

/**
 * The pieces of HTTP syntax (RFC 9110 §5.6, RFC 9112 §7.1.1) that the decoders and the protocol handlers share.
 * Hand-written byte tables and scans, because they run on every header byte of every message.
 */
public final class HttpSyntax {
    static final byte CR = '\r';
    static final byte LF = '\n';
    static final byte SP = ' ';
    static final byte HTAB = '\t';

    /** tchar of a token: field names, methods, chunk-extension names. */
    static final boolean[] TCHAR = new boolean[256];

    static {
        for (int c = '0'; c <= '9'; c++) {
            TCHAR[c] = true;
        }
        for (int c = 'a'; c <= 'z'; c++) {
            TCHAR[c] = true;
            TCHAR[c - 32] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TCHAR[c] = true;
        }
    }

    private HttpSyntax() {}

    /**
     * The next {@code n} readable bytes of {@code in}, as a body piece: a slice that shares the read buffer's
     * reference count (retained once), rather than {@code readRetainedSlice}'s pooled derived buffer, so no recycled
     * wrapper is fetched and returned per piece.
     */
    static io.netty.buffer.ByteBuf retainedPiece(io.netty.buffer.ByteBuf in, int n) {
        return in.readSlice(n).retain();
    }

    /**
     * chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), from index {@code i} to the end;
     * {@code fieldValue} says which bytes a quoted-string may hold.
     */
    static boolean validChunkExtensions(byte[] b, int i, boolean[] fieldValue) {
        int n = b.length;
        while (i < n) {
            i = skipOws(b, i);
            if (i == n || b[i] != ';') {
                return false;
            }
            i = skipOws(b, i + 1);
            int nameStart = i;
            while (i < n && TCHAR[b[i] & 0xFF]) {
                i++;
            }
            if (i == nameStart) {
                return false;
            }
            int afterName = skipOws(b, i);
            if (afterName < n && b[afterName] == '=') {
                i = skipOws(b, afterName + 1);
                if (i < n && b[i] == '"') {
                    i = endOfQuotedString(b, i + 1, fieldValue);
                    if (i < 0) {
                        return false;
                    }
                } else {
                    int valueStart = i;
                    while (i < n && TCHAR[b[i] & 0xFF]) {
                        i++;
                    }
                    if (i == valueStart) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /** Index after the closing quote of a quoted-string whose content starts at i, or -1. */
    static int endOfQuotedString(byte[] b, int i, boolean[] fieldValue) {
        int n = b.length;
        while (i < n) {
            int c = b[i] & 0xFF;
            if (c == '"') {
                return i + 1;
            }
            if (c == '\\') {
                if (i + 1 == n || !fieldValue[b[i + 1] & 0xFF]) {
                    return -1;
                }
                i += 2;
            } else if (fieldValue[c]) {
                i++;
            } else {
                return -1;
            }
        }
        return -1;
    }

    /** The reason for an unexpected byte: "bare CR" or "control char" when it is one, else {@code otherwise}. */
    static String invalid(byte b, String otherwise) {
        if (b == CR) {
            return "bare CR";
        }
        int c = b & 0xFF;
        if (c < 0x20 || c == 0x7F) {
            return "control char";
        }
        return otherwise;
    }

    static int skipOws(byte[] b, int i) {
        while (i < b.length && (b[i] == SP || b[i] == HTAB)) {
            i++;
        }
        return i;
    }

    static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
    }

    static int hexValue(byte c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    /**
     * The host of a Host header (or :authority), lower case, without port; IPv6 literals keep their brackets. A value
     * as decoded ({@code AsciiString}) is cut from its bytes straight into one String; {@code toLowerCase} returns
     * that same String when it is already lower case.
     */
    public static String hostOf(CharSequence hostHeader) {
        if (hostHeader == null || hostHeader.length() == 0) return "";
        int end = hostHeader.length();
        if (hostHeader.charAt(0) == '[') {
            for (int i = 1; i < end; i++) {
                if (hostHeader.charAt(i) == ']') {
                    end = i + 1;
                    break;
                }
            }
        } else {
            for (int i = end - 1; i >= 0; i--) {
                if (hostHeader.charAt(i) == ':') {
                    end = i;
                    break;
                }
            }
        }
        String host = hostHeader instanceof io.netty.util.AsciiString a ? a.toString(0, end)
                : hostHeader.toString().substring(0, end);
        return host.toLowerCase(java.util.Locale.ROOT);
    }
}
