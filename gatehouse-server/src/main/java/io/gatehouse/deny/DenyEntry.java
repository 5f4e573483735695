package io.gatehouse.deny;

import io.netty.util.NetUtil;

import java.time.Instant;
import java.util.Locale;

/**
 * One entry of the shared deny list: a client network, a User-Agent glob, or a glob on one header's value. Stored in
 * Redis as JSON under {@link #id()}.
 *
 * @param type    {@code cidr}, {@code user_agent} or {@code header}
 * @param value   the CIDR (or a bare address), or the glob ({@code *} any run of characters)
 * @param header  the header's name, for {@code header} only
 * @param reason  why (for the operator; never sent to the client)
 * @param added   when it was added
 * @param expires when it stops applying; null: never
 */
public record DenyEntry(String type, String value, String header, String reason, Instant added, Instant expires) {
    public DenyEntry {
        if (type == null || !(type.equals("cidr") || type.equals("user_agent") || type.equals("header"))) {
            throw new IllegalArgumentException("type: one of cidr, user_agent, header");
        }
        if (value == null || value.isBlank() || value.length() > 1024) throw new IllegalArgumentException("value: required, at most 1024 characters");
        if (type.equals("cidr")) {
            String error = cidrError(value);
            if (error != null) throw new IllegalArgumentException("value: " + error);
        }
        if (type.equals("header")) {
            if (header == null || !header.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,256}")) {
                throw new IllegalArgumentException("header: a header name is required with type header");
            }
            header = header.toLowerCase(Locale.ROOT);
        } else if (header != null) {
            throw new IllegalArgumentException("header: only with type header");
        }
        if (reason != null && reason.length() > 1024) throw new IllegalArgumentException("reason: at most 1024 characters");
    }

    /** The entry's name in the list: the same rule added twice is one entry. */
    public String id() {
        return type + ":" + (header == null ? "" : header + ":") + value;
    }

    /** Whether it still applies at {@code epochMillis}. */
    boolean live(long epochMillis) {
        return expires == null || epochMillis < expires.toEpochMilli();
    }

    static String cidrError(String text) {
        int slash = text.indexOf('/');
        String ip = slash < 0 ? text : text.substring(0, slash);
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(ip);
        if (bytes == null || ip.startsWith("[")) return "'" + text + "' is not a CIDR such as 203.0.113.0/24 or 2001:db8::/32";
        if (slash < 0) return null;
        try {
            int prefix = Integer.parseInt(text.substring(slash + 1));
            if (prefix < 0 || prefix > bytes.length * 8) return "prefix of '" + text + "' must be 0.." + bytes.length * 8;
        } catch (NumberFormatException e) {
            return "prefix of '" + text + "' is not a number";
        }
        return null;
    }
}
