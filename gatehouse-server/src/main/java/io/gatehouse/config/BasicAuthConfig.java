package io.gatehouse.config;

/**
 * The {@code basic_auth} filter (RFC 7617), for simple internal routes: user name and password of a consumer whose
 * {@code password_hash} is set. Checking a hash is slow on purpose, so it runs off the event loop, on a small pool
 * (a successful check is remembered for the process's life, keyed by a hash of the pair).
 *
 * @param realm           shown by browsers in the login prompt (default: the route's name)
 * @param upstreamHeaders the headers the identity goes upstream in
 */
public record BasicAuthConfig(String realm, IdentityHeadersConfig upstreamHeaders) {
    public BasicAuthConfig {
        if (realm != null && realm.contains("\"")) throw new IllegalArgumentException("realm: no quotes");
        upstreamHeaders = upstreamHeaders == null ? IdentityHeadersConfig.DEFAULT : upstreamHeaders;
    }
}
