package io.gatehouse.config;

import java.time.Duration;
import java.util.List;

/**
 * The {@code jwt} filter: a bearer token (RFC 7519) signed by a key we trust. Keys come from a JWKS file or inline
 * JWKS (asymmetric: RS/PS/ES/EdDSA), or a shared secret (HS256). Every rejection has its own reason in the log.
 *
 * @param issuer          required {@code iss}; null: not checked
 * @param audiences       the token's {@code aud} (a string or an array) must contain one of these; empty: not checked
 * @param algorithms      algorithms accepted (default RS256, RS384, RS512, PS256, ES256, ES384, EdDSA; HS256 when a
 *                        secret is set); a token signed otherwise is refused
 * @param jwksFile        a JWKS file with the public keys
 * @param jwks            a JWKS document inline (JSON)
 * @param publicKeyFile   a PEM file with one public key or certificate (RSA, EC or Ed25519)
 * @param jwksUrl         the issuer's JWKS endpoint (https, or http on loopback): fetched at start, refreshed in the
 *                        background, fetched again (at most every 30 s) when a token names an unknown key
 * @param jwksRefresh     how often the JWKS is fetched again (default 5m)
 * @param secret          an HS256 secret (at least 32 bytes); never derived from a public key
 * @param requireExp      refuse tokens without {@code exp} (default true)
 * @param clockSkew       tolerance for {@code exp}, {@code nbf} and {@code iat} (default 30s)
 * @param consumerClaim   the claim naming the consumer (default {@code sub}); a configured consumer of that name
 *                        supplies groups and can be disabled
 * @param header          where the token is (default {@code authorization}, as {@code Bearer <token>})
 * @param cacheSize       verified tokens kept (default 10000; 0: none); never past their {@code exp}
 * @param upstreamHeaders the headers the identity goes upstream in
 * @param jwksCluster     a configured cluster to fetch {@code jwks_url} through (its endpoints, TLS, timeouts and
 *                        health); null: an implicit internal cluster for the URL's host
 */
public record JwtAuthConfig(String issuer, List<String> audiences, List<String> algorithms, String jwksFile, String jwks,
                            String publicKeyFile, String jwksUrl, Duration jwksRefresh, String secret, Boolean requireExp, Duration clockSkew, String consumerClaim, String header,
                            Integer cacheSize, IdentityHeadersConfig upstreamHeaders, String jwksCluster) {
    public static final List<String> ASYMMETRIC = List.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
            "ES256", "ES384", "ES512", "EdDSA");
    public static final List<String> SUPPORTED;

    static {
        var all = new java.util.ArrayList<>(ASYMMETRIC);
        all.addAll(List.of("HS256", "HS384", "HS512"));
        SUPPORTED = List.copyOf(all);
    }

    /** Without {@code jwks_cluster}. */
    public JwtAuthConfig(String issuer, List<String> audiences, List<String> algorithms, String jwksFile, String jwks,
                         String publicKeyFile, String jwksUrl, Duration jwksRefresh, String secret, Boolean requireExp,
                         Duration clockSkew, String consumerClaim, String header, Integer cacheSize,
                         IdentityHeadersConfig upstreamHeaders) {
        this(issuer, audiences, algorithms, jwksFile, jwks, publicKeyFile, jwksUrl, jwksRefresh, secret, requireExp,
                clockSkew, consumerClaim, header, cacheSize, upstreamHeaders, null);
    }

    public JwtAuthConfig {
        if (jwksCluster != null && jwksUrl == null) throw new IllegalArgumentException("jwks_cluster: needs jwks_url");
        audiences = audiences == null ? List.of() : List.copyOf(audiences);
        if (jwksFile == null && jwks == null && publicKeyFile == null && jwksUrl == null && secret == null) {
            throw new IllegalArgumentException("jwt needs keys: jwks_url, jwks_file, jwks, public_key_file or secret");
        }
        if (jwksUrl != null) {
            java.net.URI u;
            try {
                u = java.net.URI.create(jwksUrl);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("jwks_url: '" + jwksUrl + "' is not a URL");
            }
            boolean loopback = "http".equals(u.getScheme()) && u.getHost() != null
                    && (u.getHost().equals("localhost") || u.getHost().startsWith("127.") || u.getHost().equals("[::1]"));
            if (!"https".equals(u.getScheme()) && !loopback) {
                throw new IllegalArgumentException("jwks_url: must be https (keys fetched in clear text could be replaced on the way)");
            }
        }
        jwksRefresh = jwksRefresh == null ? Duration.ofMinutes(5) : jwksRefresh;
        if (jwksRefresh.compareTo(Duration.ofSeconds(30)) < 0) throw new IllegalArgumentException("jwks_refresh: at least 30s");
        if (secret != null && secret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32) {
            throw new IllegalArgumentException("secret: at least 32 bytes for HS256");
        }
        if (algorithms == null) {
            var defaults = new java.util.ArrayList<String>();
            if (jwksFile != null || jwks != null || publicKeyFile != null || jwksUrl != null) defaults.addAll(List.of("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"));
            if (secret != null) defaults.add("HS256");
            algorithms = List.copyOf(defaults);
        } else {
            algorithms = List.copyOf(algorithms);
            for (String a : algorithms) {
                if (a.equalsIgnoreCase("none")) throw new IllegalArgumentException("algorithms: 'none' is never accepted");
                if (!SUPPORTED.contains(a)) throw new IllegalArgumentException("algorithms: '" + a + "' is not one of " + String.join(", ", SUPPORTED));
                if (a.startsWith("HS") && secret == null) throw new IllegalArgumentException("algorithms: " + a + " needs a secret");
            }
        }
        requireExp = requireExp == null ? Boolean.TRUE : requireExp;
        clockSkew = clockSkew == null ? Duration.ofSeconds(30) : clockSkew;
        if (clockSkew.isNegative() || clockSkew.compareTo(Duration.ofMinutes(10)) > 0) {
            throw new IllegalArgumentException("clock_skew: 0 to 10m");
        }
        consumerClaim = consumerClaim == null ? "sub" : consumerClaim;
        header = header == null ? "authorization" : header.toLowerCase(java.util.Locale.ROOT);
        cacheSize = cacheSize == null ? 10_000 : cacheSize;
        if (cacheSize < 0) throw new IllegalArgumentException("cache_size: must be >= 0");
        upstreamHeaders = upstreamHeaders == null ? IdentityHeadersConfig.DEFAULT : upstreamHeaders;
    }
}
