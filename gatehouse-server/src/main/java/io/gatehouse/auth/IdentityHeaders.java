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
        set(h, prepare(id));
    }

    /** The header values of one identity, made once: a cached token's requests then only copy them. */
    record Values(String consumer, String subject, String scopes, String groups) {}

    Values prepare(Identity id) {
        return new Values(consumer == null ? null : id.consumer(),
                subject == null || id.subject() == null ? null : safe(id.subject()),
                scopes == null || id.scopes().isEmpty() ? null : safe(String.join(" ", id.scopes())),
                groups == null || id.groups().isEmpty() ? null : String.join(",", id.groups()));
    }

    void set(HttpHeaders h, Values v) {
        if (v.consumer() != null) h.set(consumer, v.consumer());
        if (v.subject() != null) h.set(subject, v.subject());
        if (v.scopes() != null) h.set(scopes, v.scopes());
        if (v.groups() != null) h.set(groups, v.groups());
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
