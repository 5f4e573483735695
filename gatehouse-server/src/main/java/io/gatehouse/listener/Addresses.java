package io.gatehouse.listener;

import java.net.InetSocketAddress;

/** host:port parsing and printing, with [v6] brackets. */
public final class Addresses {
    private Addresses() {}

    /** Parses {@code host:port} or {@code [v6]:port}; the host is resolved now. */
    public static InetSocketAddress parse(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0 || colon == hostPort.length() - 1) {
            throw new IllegalArgumentException("address '" + hostPort + "' is not host:port");
        }
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port;
        try {
            port = Integer.parseInt(hostPort.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("address '" + hostPort + "' has an invalid port");
        }
        if (port < 0 || port > 65535) throw new IllegalArgumentException("address '" + hostPort + "' has an invalid port");
        return new InetSocketAddress(host, port);
    }

    public static String format(InetSocketAddress a) {
        if (a.getAddress() != null && a.getAddress().isAnyLocalAddress()) return "*:" + a.getPort();
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
