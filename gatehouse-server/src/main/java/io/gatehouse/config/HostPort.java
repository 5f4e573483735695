package io.gatehouse.config;

import io.netty.util.NetUtil;

import java.util.regex.Pattern;

/**
 * A {@code host:port} address from the config: {@code 10.0.0.5:8080}, {@code [2001:db8::1]:443},
 * {@code backend.internal:80}. Parsing is syntax only; names are resolved elsewhere.
 *
 * @param host an IPv4 literal, an IPv6 literal without brackets, or a DNS name
 * @param port 0..65535; 0 (pick a free port) only where the caller allows it, i.e. for addresses to listen on
 */
public record HostPort(String host, int port) {
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?");
    private static final Pattern DOTTED = Pattern.compile("[0-9.]+");

    /**
     * @param listen true for addresses to bind (port 0 allowed), false for addresses to connect to
     * @throws IllegalArgumentException with a message fit to show the user
     */
    public static HostPort parse(String text, boolean listen) {
        String s = text == null ? "" : text.strip();
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) throw new IllegalArgumentException("'" + s + "' has no closing ']'");
            host = s.substring(1, close);
            if (!NetUtil.isValidIpV6Address(host)) {
                throw new IllegalArgumentException("'" + host + "' in brackets is not an IPv6 address");
            }
            if (close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("missing port in '" + s + "'; expected [ipv6]:port");
            }
            port = s.substring(close + 2);
        } else {
            int colon = s.lastIndexOf(':');
            if (colon < 0) throw new IllegalArgumentException("missing port in '" + s + "'; expected host:port");
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
            if (host.indexOf(':') >= 0) {
                throw new IllegalArgumentException("an IPv6 address needs brackets, e.g. [" + host + "]:" + port);
            }
            if (host.isEmpty()) {
                throw new IllegalArgumentException("missing host in '" + s + "'" + (listen ? "; use 0.0.0.0" + s + " for every address" : ""));
            }
            if (DOTTED.matcher(host).matches()) {
                if (!NetUtil.isValidIpV4Address(host)) throw new IllegalArgumentException("'" + host + "' is not a valid IPv4 address");
            } else if (!isDnsName(host)) {
                throw new IllegalArgumentException("'" + host + "' is not a valid host name");
            }
        }
        if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("'" + port + "' is not a port; expected 1..65535");
        }
        int p = Integer.parseInt(port);
        if (p > 65535 || (p == 0 && !listen)) {
            throw new IllegalArgumentException("port " + p + " is out of range; expected 1..65535"
                    + (p == 0 ? " (0, a free port, is only for addresses to listen on)" : ""));
        }
        return new HostPort(host, p);
    }

    private static boolean isDnsName(String host) {
        if (host.length() > 253) return false;
        for (String label : host.split("\\.", -1)) {
            if (!LABEL.matcher(label).matches()) return false;
        }
        return true;
    }

    /** 0.0.0.0 or :: — every local address. */
    public boolean isWildcard() {
        byte[] ip = NetUtil.createByteArrayFromIpAddressString(host);
        if (ip == null) return false;
        for (byte b : ip) if (b != 0) return false;
        return true;
    }

    public boolean isIpv6() {
        return NetUtil.isValidIpV6Address(host);
    }

    /** The socket address to bind or connect to; a host name is resolved now (blocking: never on an event loop). */
    public java.net.InetSocketAddress resolve() {
        return new java.net.InetSocketAddress(host, port);
    }

    /** {@code host:port} of a bound or connected address, brackets around IPv6, {@code *:port} for the wildcard. */
    public static String format(java.net.InetSocketAddress a) {
        if (a.getAddress() != null && a.getAddress().isAnyLocalAddress()) return "*:" + a.getPort();
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    @Override
    public String toString() {
        return (isIpv6() ? "[" + host + "]" : host) + ":" + port;
    }
}
