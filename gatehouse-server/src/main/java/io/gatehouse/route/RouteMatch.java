package io.gatehouse.route;

import io.gatehouse.config.MatchConfig;
import io.gatehouse.tls.ClientCertificate;
import io.netty.handler.codec.http.HttpHeaders;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** A compiled {@link MatchConfig}: host, path, method and header conditions, all of which must hold. */
public final class RouteMatch {
    private final String exactHost;      // lower case, or null
    private final String wildcardSuffix; // ".example.com" for "*.example.com", or null
    private final String path;
    private final String pathPrefix;     // normalised without trailing slash unless "/"
    private final boolean prefixEndsWithSlash;
    private final Pattern pathRegex;
    private final List<String> methods;
    private final List<HeaderCondition> headers;
    private final MatchConfig.ClientCertMatchConfig clientCert; // or null

    public RouteMatch(MatchConfig config) {
        String host = config.host() == null ? null : config.host().toLowerCase(Locale.ROOT);
        if (host != null && host.startsWith("*.")) {
            exactHost = null;
            wildcardSuffix = host.substring(1);
        } else {
            exactHost = host;
            wildcardSuffix = null;
        }
        path = config.path();
        pathPrefix = config.pathPrefix();
        prefixEndsWithSlash = pathPrefix != null && pathPrefix.endsWith("/");
        pathRegex = config.pathRegex() == null ? null : Pattern.compile(config.pathRegex());
        methods = config.methods();
        headers = config.headers().stream().map(HeaderCondition::new).toList();
        clientCert = config.clientCert();
    }

    /**
     * @param host   request host, lower case, without port (may be empty)
     * @param path   request path without the query
     */
    public boolean matches(String method, String host, String path, HttpHeaders requestHeaders) {
        return matches(method, host, path, requestHeaders, null);
    }

    /** @param cert the client certificate verified in the TLS handshake, or null */
    public boolean matches(String method, String host, String path, HttpHeaders requestHeaders, ClientCertificate cert) {
        if (clientCert != null && !clientCertMatches(cert)) return false;
        if (exactHost != null && !exactHost.equals(host)) return false;
        if (wildcardSuffix != null && !(host.endsWith(wildcardSuffix) && host.length() > wildcardSuffix.length())) return false;
        if (this.path != null && !this.path.equals(path)) return false;
        if (pathPrefix != null && !prefixMatches(path)) return false;
        if (pathRegex != null && !pathRegex.matcher(path).matches()) return false;
        if (!methods.isEmpty() && !methods.contains(method)) return false;
        for (HeaderCondition h : headers) {
            if (!h.test(requestHeaders)) return false;
        }
        return true;
    }

    private boolean clientCertMatches(ClientCertificate cert) {
        if (clientCert.present() != null && clientCert.present() != (cert != null)) return false;
        if (clientCert.subject() != null && (cert == null || !clientCert.subject().equals(cert.subject()))) return false;
        return clientCert.san() == null || (cert != null && cert.sans().contains(clientCert.san()));
    }

    // "/api" matches "/api" and "/api/x", not "/apix"; "/api/" matches anything under it.
    private boolean prefixMatches(String p) {
        if (!p.startsWith(pathPrefix)) return false;
        return prefixEndsWithSlash || p.length() == pathPrefix.length() || p.charAt(pathPrefix.length()) == '/';
    }

    /** Replaces the matched part of {@code p}: the prefix for path_prefix, the whole path otherwise. */
    String rewrite(String p, String replacement) {
        if (pathPrefix != null && p.startsWith(pathPrefix)) {
            String rest = p.substring(pathPrefix.length());
            if (replacement.endsWith("/") && rest.startsWith("/")) rest = rest.substring(1);
            return replacement + rest;
        }
        if (pathRegex != null) {
            return pathRegex.matcher(p).replaceAll(replacement);
        }
        return replacement;
    }

    private static final class HeaderCondition {
        private final String name;
        private final String value;
        private final Pattern regex;
        private final Boolean present;

        HeaderCondition(MatchConfig.HeaderMatchConfig c) {
            name = c.name();
            value = c.value();
            regex = c.regex() == null ? null : Pattern.compile(c.regex());
            present = c.present();
        }

        boolean test(HttpHeaders h) {
            String v = h.get(name);
            if (present != null) return present == (v != null);
            if (v == null) return false;
            return value != null ? value.equals(v) : regex.matcher(v).matches();
        }
    }
}
