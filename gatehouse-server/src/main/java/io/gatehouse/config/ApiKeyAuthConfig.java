package io.gatehouse.config;

/**
 * The {@code api_key} filter: the request must carry the key of an enabled consumer, in a header or a query
 * parameter.
 *
 * @param header           where the key is looked for first (default {@code x-api-key})
 * @param query            a query parameter to look in too (e.g. {@code api_key}); null: none
 * @param hideCredentials  remove the key from the request before it goes upstream (default true)
 * @param upstreamHeaders  the headers the identity goes upstream in
 */
public record ApiKeyAuthConfig(String header, String query, Boolean hideCredentials, IdentityHeadersConfig upstreamHeaders) {
    public ApiKeyAuthConfig {
        header = header == null ? "x-api-key" : header.toLowerCase(java.util.Locale.ROOT);
        hideCredentials = hideCredentials == null ? Boolean.TRUE : hideCredentials;
        upstreamHeaders = upstreamHeaders == null ? IdentityHeadersConfig.DEFAULT : upstreamHeaders;
    }
}
