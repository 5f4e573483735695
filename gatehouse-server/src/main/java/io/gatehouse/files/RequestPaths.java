package io.gatehouse.files;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A request path turned into the names of the files under the root, checked before the file system sees it: each
 * segment percent-decoded once (UTF-8), and refused when it could leave the root or name something other than a plain
 * file name ({@code .} and {@code ..} however encoded, an encoded {@code /} or {@code \}, NUL and other control
 * characters, bad encoding). Symlinks are the file system's business: {@link FileServer} checks the real path.
 */
final class RequestPaths {
    /** What a checked path names. */
    record Target(List<String> names, boolean directoryForm) {}

    /** The path may not be served: 400 (malformed or an attempt to leave the root) or 404 (a hidden file). */
    static final class Refused extends Exception {
        final boolean badRequest;

        Refused(boolean badRequest, String message) {
            super(message, null, false, false);
            this.badRequest = badRequest;
        }
    }

    private RequestPaths() {}

    static Target parse(String rawPath) throws Refused {
        if (!rawPath.startsWith("/")) throw new Refused(true, "not an absolute path");
        List<String> names = new ArrayList<>();
        for (String raw : rawPath.split("/", -1)) {
            if (raw.isEmpty()) continue;
            String name = decode(raw);
            if (name.equals(".") || name.equals("..")) throw new Refused(true, "dot segment");
            for (int i = 0; i < name.length(); i++) {
                char c = name.charAt(i);
                if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) throw new Refused(true, "separator or control character in a name");
            }
            // dotfiles (.git, .env, .htpasswd) are never content; .well-known is (ACME, security.txt)
            if (name.startsWith(".") && !name.equals(".well-known")) throw new Refused(false, "hidden file");
            names.add(name);
        }
        return new Target(List.copyOf(names), rawPath.endsWith("/"));
    }

    private static String decode(String raw) throws Refused {
        if (raw.indexOf('%') < 0) return raw;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                if (i + 2 >= raw.length()) throw new Refused(true, "bad percent-encoding");
                int hi = Character.digit(raw.charAt(i + 1), 16), lo = Character.digit(raw.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) throw new Refused(true, "bad percent-encoding");
                bytes.write(hi << 4 | lo);
                i += 2;
            } else if (c > 0x7f) {
                throw new Refused(true, "raw non-ASCII in path");
            } else {
                bytes.write(c);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new Refused(true, "not UTF-8");
        }
    }
}
