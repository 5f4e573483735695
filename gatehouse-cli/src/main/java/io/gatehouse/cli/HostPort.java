package io.gatehouse.cli;

import java.net.Inet6Address;
import java.net.InetSocketAddress;

/** {@code host:port} strings as users type and read them. */
final class HostPort {
    private HostPort() {}

    /** Checks {@code host:port} or {@code [v6]:port} with a port 0..65535; names are resolved by the server. */
    static void require(String option, String value) {
        int colon = value == null ? -1 : value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new IllegalArgumentException(option + ": '" + value + "' is not HOST:PORT");
        }
        try {
            int port = Integer.parseInt(value.substring(colon + 1));
            if (port < 0 || port > 65535) throw new NumberFormatException();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": '" + value + "' has no valid port (0..65535)");
        }
    }

    /** {@code 127.0.0.1:8080}, {@code [::1]:8080}: no leading slash, no resolved name. */
    static String format(InetSocketAddress address) {
        String host = address.getAddress() == null ? address.getHostString() : address.getAddress().getHostAddress();
        if (address.getAddress() instanceof Inet6Address) host = "[" + host + "]";
        return host + ":" + address.getPort();
    }

    /** What to type into curl to reach {@code address}: a wildcard bind is reached as {@code localhost}. */
    static String reachable(InetSocketAddress address) {
        if (address.getAddress() != null && address.getAddress().isAnyLocalAddress()) {
            return "localhost:" + address.getPort();
        }
        return format(address);
    }
}
