package io.gatehouse.config;

import java.time.Duration;
import java.util.List;

/**
 * The {@code cors} filter: cross-origin requests from browsers (the Fetch standard's CORS protocol), answered at the
 * edge.
 *
 * @param allowOrigins     origins allowed ({@code https://app.example}); {@code *} any (not with credentials);
 *                         {@code https://*.example.com} one level of subdomain
 * @param allowMethods     methods a preflight may ask for (default GET, HEAD, POST)
 * @param allowHeaders     request headers a preflight may ask for; {@code *} any (not with credentials)
 * @param exposeHeaders    response headers scripts may read
 * @param allowCredentials cookies and authorization may be sent (default false)
 * @param maxAge           how long a browser may cache a preflight answer (default 10m)
 */
public record CorsConfig(List<String> allowOrigins, List<String> allowMethods, List<String> allowHeaders,
                         List<String> exposeHeaders, Boolean allowCredentials, Duration maxAge) {
    public CorsConfig {
        if (allowOrigins == null || allowOrigins.isEmpty()) throw new IllegalArgumentException("allow_origins: at least one is required");
        allowOrigins = List.copyOf(allowOrigins);
        allowMethods = allowMethods == null ? List.of("GET", "HEAD", "POST")
                : allowMethods.stream().map(m -> m.toUpperCase(java.util.Locale.ROOT)).toList();
        allowHeaders = allowHeaders == null ? List.of() : allowHeaders.stream().map(h -> h.toLowerCase(java.util.Locale.ROOT)).toList();
        exposeHeaders = exposeHeaders == null ? List.of() : List.copyOf(exposeHeaders);
        allowCredentials = allowCredentials == null ? Boolean.FALSE : allowCredentials;
        maxAge = maxAge == null ? Duration.ofMinutes(10) : maxAge;
        if (allowCredentials && allowOrigins.contains("*")) {
            throw new IllegalArgumentException("allow_origins: '*' with allow_credentials would let any site act as the signed-in user; list the origins");
        }
        if (allowCredentials && allowHeaders.contains("*")) {
            throw new IllegalArgumentException("allow_headers: '*' does not work with credentials (browsers take it literally); list the headers");
        }
        for (String o : allowOrigins) {
            if (!o.equals("*") && !o.matches("https?://(\\*\\.)?[A-Za-z0-9.-]+(:\\d{1,5})?")) {
                throw new IllegalArgumentException("allow_origins: '" + o + "' is not an origin such as https://app.example.com");
            }
        }
    }
}
