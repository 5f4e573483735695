package io.gatehouse.cli;

import java.net.Inet6Address;
import java.net.InetSocketAddress;

/** {@code host:port} strings as users type and read them. */
final class HostPort {
    private HostPort() {}

    /** Checks {@code host:port} or {@code [v6]:port} as the configuration file does (port 0: any free one). */
    static void require(String option, String value) {
        try {
            io.gatehouse.config.HostPort.parse(value, true);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage());
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
