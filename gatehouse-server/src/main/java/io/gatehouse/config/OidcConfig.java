package io.gatehouse.config;

import java.time.Duration;
import java.util.List;

/**
 * The {@code oidc} filter: browser routes behind an OpenID Connect provider, with the authorization-code flow and
 * PKCE. A request without a session is redirected to the provider; its callback is checked (state, PKCE, the ID
 * token's signature, issuer, audience, expiry and nonce) and starts a session kept in a cookie that is encrypted and
 * authenticated (AES-256-GCM), so the edge stores nothing; the session is refreshed with the refresh token before
 * the provider's tokens expire; {@code logout_path} ends it.
 *
 * @param issuer        the provider; its discovery document is {@code issuer/.well-known/openid-configuration}
 * @param clientId      this edge's client id at the provider
 * @param clientSecret  its secret (use {@code ${OIDC_CLIENT_SECRET}})
 * @param cookieSecret  at least 32 bytes; encrypts the session cookie (edges that share it share sessions)
 * @param scopes        default {@code openid profile email}
 * @param redirectPath  where the provider sends the browser back (default {@code /oauth2/callback})
 * @param logoutPath    ends the session (default {@code /oauth2/logout})
 * @param cookieName    default {@code gatehouse_session}
 * @param sessionLifetime the longest a session lives (default 8h), refreshed or not
 * @param cluster       a configured cluster every call to the provider goes through (discovery, keys, tokens);
 *                      null: an implicit internal cluster per host the provider names
 */
public record OidcConfig(String issuer, String clientId, String clientSecret, String cookieSecret, List<String> scopes,
                         String redirectPath, String logoutPath, String cookieName, Duration sessionLifetime,
                         IdentityHeadersConfig upstreamHeaders, String cluster) {
    /** Without {@code cluster}. */
    public OidcConfig(String issuer, String clientId, String clientSecret, String cookieSecret, List<String> scopes,
                      String redirectPath, String logoutPath, String cookieName, Duration sessionLifetime,
                      IdentityHeadersConfig upstreamHeaders) {
        this(issuer, clientId, clientSecret, cookieSecret, scopes, redirectPath, logoutPath, cookieName, sessionLifetime,
                upstreamHeaders, null);
    }

    public OidcConfig {
        if (issuer == null || !(issuer.startsWith("https://") || issuer.startsWith("http://127.") || issuer.startsWith("http://localhost"))) {
            throw new IllegalArgumentException("issuer: an https URL (http only on loopback)");
        }
        if (clientId == null || clientId.isBlank()) throw new IllegalArgumentException("client_id: is required");
        if (cookieSecret == null || cookieSecret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32) {
            throw new IllegalArgumentException("cookie_secret: at least 32 bytes");
        }
        scopes = scopes == null ? List.of("openid", "profile", "email") : List.copyOf(scopes);
        if (!scopes.contains("openid")) throw new IllegalArgumentException("scopes: must include openid");
        redirectPath = redirectPath == null ? "/oauth2/callback" : redirectPath;
        logoutPath = logoutPath == null ? "/oauth2/logout" : logoutPath;
        cookieName = cookieName == null ? "gatehouse_session" : cookieName;
        if (!cookieName.matches("[A-Za-z0-9_-]+")) throw new IllegalArgumentException("cookie_name: letters, digits, _ and -");
        sessionLifetime = sessionLifetime == null ? Duration.ofHours(8) : sessionLifetime;
        upstreamHeaders = upstreamHeaders == null ? IdentityHeadersConfig.DEFAULT : upstreamHeaders;
    }
}
