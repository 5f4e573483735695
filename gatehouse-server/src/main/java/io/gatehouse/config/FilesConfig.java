package io.gatehouse.config;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The {@code files} action: the route answers from a directory, as a web server does. The request path (after
 * {@code strip_prefix} / {@code rewrite_path}) names a file under {@code root}; nothing outside it is ever served.
 * There is no directory listing.
 *
 * @param root          the directory served (relative paths: from the working directory); checked when the
 *                      configuration is applied
 * @param index         the file a directory's URL serves (default {@code index.html}); a directory without one is 404
 * @param fingerprint   a regular expression matched against the file name: a match is a versioned asset whose content
 *                      never changes under that name, sent with {@code Cache-Control: public, max-age=31536000,
 *                      immutable} (default: a name with a hex hash of 6 or more digits before the extension, as
 *                      {@code app.a1b2c3.js} or {@code app-a1b2c3d4.css})
 * @param cacheControl  {@code Cache-Control} of every other file (default {@code public, max-age=300}; empty: none)
 * @param precompressed serve {@code NAME.br} / {@code NAME.gz} next to {@code NAME} when the client accepts that
 *                      encoding (default true)
 */
public record FilesConfig(String root, String index, String fingerprint, String cacheControl, Boolean precompressed) {
    public static final String DEFAULT_FINGERPRINT = ".+[.-][0-9a-fA-F]{6,}\\.[A-Za-z0-9]+";

    public FilesConfig {
        if (root == null || root.isBlank()) throw new IllegalArgumentException("root: is required");
        index = index == null ? "index.html" : index;
        if (index.isEmpty() || index.contains("/") || index.contains("\\") || index.startsWith(".")) {
            throw new IllegalArgumentException("index: a file name, without / and not starting with a dot");
        }
        fingerprint = fingerprint == null ? DEFAULT_FINGERPRINT : fingerprint;
        try {
            Pattern.compile(fingerprint);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("fingerprint: not a regular expression: " + e.getDescription());
        }
        cacheControl = cacheControl == null ? "public, max-age=300" : cacheControl.strip();
        if (cacheControl.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new IllegalArgumentException("cache_control: control characters are not allowed");
        }
        precompressed = precompressed == null ? Boolean.TRUE : precompressed;
    }
}
