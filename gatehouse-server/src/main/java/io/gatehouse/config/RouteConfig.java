package io.gatehouse.config;

import java.time.Duration;
import java.util.List;

/**
 * One route: a match, and exactly one action ({@code cluster}, {@code direct_response}, {@code redirect} or
 * {@code files}).
 *
 * @param name           unique within the listener; used in logs, metrics and the admin API
 * @param match          what requests this route takes (all of it must hold)
 * @param cluster        name of the cluster to proxy to
 * @param directResponse answer with a fixed status and body
 * @param redirect       answer with a redirect
 * @param stripPrefix    remove this prefix from the path before proxying ({@code /api} turns {@code /api/x} into {@code /x})
 * @param rewritePath    replace the path matched by {@code match} (prefix, or the whole path for exact/regex) with this
 * @param preserveHost   send the client's Host (default) or the endpoint's host:port
 * @param maxBodySize    request body bytes for this route (413 above); null: the listener's limit; 0: no limit
 * @param timeouts       per-route timeouts
 * @param retries        retry policy
 * @param hsts           add {@code Strict-Transport-Security} to responses sent over TLS; null: none
 * @param compression    response compression; null: the listener's; {@code enabled: false} turns it off here
 * @param decompressRequests decode gzip/br request bodies before they go upstream; null: bodies pass as sent
 * @param filters        the route's filter chain, in order, after the listener's; the route's action comes last
 * @param inheritFilters run the listener's {@code filters} first (default true); false: only the route's own
 * @param files          serve files from a directory (the web-server role)
 */
public record RouteConfig(
        String name,
        MatchConfig match,
        String cluster,
        DirectResponseConfig directResponse,
        RedirectConfig redirect,
        String stripPrefix,
        String rewritePath,
        Boolean preserveHost,
        Long maxBodySize,
        RouteTimeoutsConfig timeouts,
        RetryConfig retries,
        HstsConfig hsts,
        CompressionConfig compression,
        DecompressRequestsConfig decompressRequests,
        List<FilterConfig> filters,
        Boolean inheritFilters,
        FilesConfig files) {

    public RouteConfig {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("name: is required");
        match = match == null ? MatchConfig.ANY : match;
        int actions = (cluster != null ? 1 : 0) + (directResponse != null ? 1 : 0) + (redirect != null ? 1 : 0)
                + (files != null ? 1 : 0);
        if (actions != 1) {
            throw new IllegalArgumentException("route needs exactly one of cluster, direct_response, redirect, files");
        }
        if (stripPrefix != null && rewritePath != null) {
            throw new IllegalArgumentException("strip_prefix: cannot be combined with rewrite_path");
        }
        if (stripPrefix != null && !stripPrefix.startsWith("/")) {
            throw new IllegalArgumentException("strip_prefix: must start with /");
        }
        if (rewritePath != null && !rewritePath.startsWith("/")) {
            throw new IllegalArgumentException("rewrite_path: must start with /");
        }
        preserveHost = preserveHost == null ? Boolean.TRUE : preserveHost;
        if (maxBodySize != null && maxBodySize < 0) throw new IllegalArgumentException("max_body_size: must be >= 0");
        timeouts = timeouts == null ? RouteTimeoutsConfig.DEFAULT : timeouts;
        retries = retries == null ? RetryConfig.DEFAULT : retries;
        filters = filters == null ? List.of() : List.copyOf(filters);
        inheritFilters = inheritFilters == null ? Boolean.TRUE : inheritFilters;
        for (FilterConfig f : filters) {
            // the shorthand keys and the list would make two of one filter, in an order nobody chose
            if (f.type().equals("hsts") && hsts != null) throw new IllegalArgumentException("hsts: set it in filters or here, not both");
            if (f.type().equals("compression") && compression != null) throw new IllegalArgumentException("compression: set it in filters or here, not both");
            if (f.type().equals("decompress_requests") && decompressRequests != null) {
                throw new IllegalArgumentException("decompress_requests: set it in filters or here, not both");
            }
        }
    }

    /** A route whose action is not {@code files}. */
    public RouteConfig(String name, MatchConfig match, String cluster, DirectResponseConfig directResponse,
                       RedirectConfig redirect, String stripPrefix, String rewritePath, Boolean preserveHost,
                       Long maxBodySize, RouteTimeoutsConfig timeouts, RetryConfig retries, HstsConfig hsts,
                       CompressionConfig compression, DecompressRequestsConfig decompressRequests,
                       List<FilterConfig> filters, Boolean inheritFilters) {
        this(name, match, cluster, directResponse, redirect, stripPrefix, rewritePath, preserveHost, maxBodySize,
                timeouts, retries, hsts, compression, decompressRequests, filters, inheritFilters, null);
    }

    /** A route without HSTS or compression settings of its own. */
    public RouteConfig(String name, MatchConfig match, String cluster, DirectResponseConfig directResponse,
                       RedirectConfig redirect, String stripPrefix, String rewritePath, Boolean preserveHost,
                       Long maxBodySize, RouteTimeoutsConfig timeouts, RetryConfig retries) {
        this(name, match, cluster, directResponse, redirect, stripPrefix, rewritePath, preserveHost, maxBodySize,
                timeouts, retries, null, null, null, null, null);
    }

    /** A route with HSTS (or not: null) and no compression settings of its own. */
    public RouteConfig(String name, MatchConfig match, String cluster, DirectResponseConfig directResponse,
                       RedirectConfig redirect, String stripPrefix, String rewritePath, Boolean preserveHost,
                       Long maxBodySize, RouteTimeoutsConfig timeouts, RetryConfig retries, HstsConfig hsts) {
        this(name, match, cluster, directResponse, redirect, stripPrefix, rewritePath, preserveHost, maxBodySize,
                timeouts, retries, hsts, null, null, null, null);
    }

    /** A route with compression settings and no HSTS. */
    public RouteConfig(String name, MatchConfig match, String cluster, DirectResponseConfig directResponse,
                       RedirectConfig redirect, String stripPrefix, String rewritePath, Boolean preserveHost,
                       Long maxBodySize, RouteTimeoutsConfig timeouts, RetryConfig retries,
                       CompressionConfig compression, DecompressRequestsConfig decompressRequests) {
        this(name, match, cluster, directResponse, redirect, stripPrefix, rewritePath, preserveHost, maxBodySize,
                timeouts, retries, null, compression, decompressRequests, null, null);
    }

    /**
     * HTTP Strict Transport Security (RFC 6797): browsers use only HTTPS for the host for {@code max_age}.
     *
     * @param maxAge            default 365d
     * @param includeSubdomains apply to every subdomain too (default false)
     * @param preload           ask to be in browsers' preload lists (requires include_subdomains and max_age >= 365d)
     */
    public record HstsConfig(java.time.Duration maxAge, Boolean includeSubdomains, Boolean preload) {
        public HstsConfig {
            maxAge = maxAge == null ? java.time.Duration.ofDays(365) : maxAge;
            if (maxAge.isNegative()) throw new IllegalArgumentException("max_age: must be >= 0");
            includeSubdomains = includeSubdomains == null ? Boolean.FALSE : includeSubdomains;
            preload = preload == null ? Boolean.FALSE : preload;
            if (preload && (!includeSubdomains || maxAge.compareTo(java.time.Duration.ofDays(365)) < 0)) {
                throw new IllegalArgumentException("preload: requires include_subdomains: true and max_age of at least 365d");
            }
        }

        /** The header value, e.g. {@code max-age=31536000; includeSubDomains}. */
        public String headerValue() {
            return "max-age=" + maxAge.toSeconds() + (includeSubdomains ? "; includeSubDomains" : "") + (preload ? "; preload" : "");
        }
    }

    /**
     * @param total      from the request's arrival to the response's last byte, retries included; 504 if the head
     *                   has not been sent yet, otherwise the connection is reset. null: no total bound
     * @param perTry     bound on one attempt until response headers (overrides the cluster's response_header)
     */
    public record RouteTimeoutsConfig(Duration total, Duration perTry) {
        public static final RouteTimeoutsConfig DEFAULT = new RouteTimeoutsConfig(null, null);
    }

    /** A fixed answer. */
    public record DirectResponseConfig(int status, String body, String contentType) {
        public DirectResponseConfig {
            if (status < 200 || status > 599) throw new IllegalArgumentException("status: must be 200..599");
            body = body == null ? "" : body;
            contentType = contentType == null ? "text/plain; charset=utf-8" : contentType;
        }
    }

    /**
     * A redirect. {@code location} is absolute or a path; otherwise scheme/host/port/path replace parts of the request
     * URL. {@code {scheme: https}} is the HTTP→HTTPS redirect; add {@code port} when HTTPS is not on 443.
     *
     * @param status 301, 302, 303, 307 or 308 (default 301)
     * @param port   port in the new URL; omitted when it is the scheme's default; null: none (the Host's port is dropped
     *               when the scheme changes, kept otherwise)
     */
    public record RedirectConfig(int status, String location, RedirectScheme scheme, String host, String path, Integer port) {
        public RedirectConfig {
            status = status == 0 ? 301 : status;
            if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
                throw new IllegalArgumentException("status: must be one of 301, 302, 303, 307, 308");
            }
            if (location == null && scheme == null && host == null && path == null && port == null) {
                throw new IllegalArgumentException("redirect needs location, or one of scheme, host, port, path");
            }
            if (port != null && (port < 1 || port > 65535)) throw new IllegalArgumentException("port: must be 1..65535");
            if (location != null && port != null) throw new IllegalArgumentException("port: cannot be combined with location");
        }

        public RedirectConfig(int status, String location, RedirectScheme scheme, String host, String path) {
            this(status, location, scheme, host, path, null);
        }
    }
}
