package io.gatehouse.auth;

import io.gatehouse.config.IdentityHeadersConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

/** The identity headers sent upstream: a client's own copies removed first (unforgeable), then ours set. */
final class IdentityHeaders {
    private final AsciiString consumer, subject, scopes, groups;

    IdentityHeaders(IdentityHeadersConfig c) {
        consumer = name(c.consumer());
        subject = name(c.subject());
        scopes = name(c.scopes());
        groups = name(c.groups());
    }

    private static AsciiString name(String n) {
        return n == null || n.isBlank() ? null : AsciiString.of(n.toLowerCase(java.util.Locale.ROOT));
    }

    /** Removes what a client sent under our names: done before anything else, whether or not it authenticates. */
    void strip(HttpHeaders h) {
        if (consumer != null) h.remove(consumer);
        if (subject != null) h.remove(subject);
        if (scopes != null) h.remove(scopes);
        if (groups != null) h.remove(groups);
    }

    void set(HttpHeaders h, Identity id) {
        if (consumer != null && id.consumer() != null) h.set(consumer, id.consumer());
        if (subject != null && id.subject() != null) h.set(subject, safe(id.subject()));
        if (scopes != null && !id.scopes().isEmpty()) h.set(scopes, safe(String.join(" ", id.scopes())));
        if (groups != null && !id.groups().isEmpty()) h.set(groups, String.join(",", id.groups()));
    }

    /** A claim is the token issuer's text: no control characters may reach a header line. */
    private static String safe(String v) {
        StringBuilder b = null;
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                if (b == null) b = new StringBuilder(v.substring(0, i));
                continue;
            }
            if (b != null) b.append(c);
        }
        return b == null ? v : b.toString();
    }
}
