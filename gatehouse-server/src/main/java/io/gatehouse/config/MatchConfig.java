package io.gatehouse.config;

import java.util.List;

/**
 * What a route matches. Every given part must hold. At most one of path, path_prefix, path_regex.
 *
 * @param host       exact ({@code api.example.com}) or wildcard ({@code *.example.com}); case-insensitive; port ignored
 * @param path       exact path (query excluded)
 * @param pathPrefix path prefix, on segment boundaries when it ends without {@code /}: {@code /api} matches
 *                   {@code /api} and {@code /api/x}, not {@code /apix}
 * @param pathRegex  Java regex that must match the whole path
 * @param methods    allowed methods (upper case); empty: any
 * @param headers    header conditions
 * @param clientCert conditions on the client certificate verified in the TLS handshake (mTLS)
 */
public record MatchConfig(String host, String path, String pathPrefix, String pathRegex, List<String> methods,
                          List<HeaderMatchConfig> headers, ClientCertMatchConfig clientCert) {
    public static final MatchConfig ANY = new MatchConfig(null, null, null, null, null, null, null);

    public MatchConfig {
        int paths = (path != null ? 1 : 0) + (pathPrefix != null ? 1 : 0) + (pathRegex != null ? 1 : 0);
        if (paths > 1) throw new IllegalArgumentException("use only one of path, path_prefix, path_regex");
        if (path != null && !path.startsWith("/")) throw new IllegalArgumentException("path: must start with /");
        if (pathPrefix != null && !pathPrefix.startsWith("/")) throw new IllegalArgumentException("path_prefix: must start with /");
        methods = methods == null ? List.of() : methods.stream().map(m -> m.toUpperCase(java.util.Locale.ROOT)).toList();
        headers = headers == null ? List.of() : List.copyOf(headers);
    }

    public MatchConfig(String host, String path, String pathPrefix, String pathRegex, List<String> methods,
                       List<HeaderMatchConfig> headers) {
        this(host, path, pathPrefix, pathRegex, methods, headers, null);
    }

    /**
     * The client certificate, verified against the listener's {@code client_ca}. Every given part must hold.
     *
     * @param present true: a verified certificate is required; false: the client must not have sent one
     * @param subject exact subject DN as RFC 2253 prints it, e.g. {@code CN=billing,O=Example}
     * @param san     one of the subject alternative names equals this (DNS name, URI such as a SPIFFE id, email or IP)
     */
    public record ClientCertMatchConfig(Boolean present, String subject, String san) {
        public ClientCertMatchConfig {
            if (present == null && subject == null && san == null) {
                throw new IllegalArgumentException("client_cert needs one of present, subject, san");
            }
            if (Boolean.FALSE.equals(present) && (subject != null || san != null)) {
                throw new IllegalArgumentException("present: false cannot be combined with subject or san");
            }
        }
    }

    /**
     * One header condition: {@code value} (exact), {@code regex}, or {@code present} (true: must exist, false: must not).
     */
    public record HeaderMatchConfig(String name, String value, String regex, Boolean present) {
        public HeaderMatchConfig {
            if (name == null || name.isBlank()) throw new IllegalArgumentException("name: is required");
            int kinds = (value != null ? 1 : 0) + (regex != null ? 1 : 0) + (present != null ? 1 : 0);
            if (kinds != 1) throw new IllegalArgumentException("header match needs exactly one of value, regex, present");
        }
    }
}
