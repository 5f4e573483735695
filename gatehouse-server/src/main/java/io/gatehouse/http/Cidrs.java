package io.gatehouse.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * A set of CIDR blocks ({@code 10.0.0.0/8}, {@code ::1/128}, or a bare address): the trusted proxies whose
 * X-Forwarded-* headers are believed, and the allow and deny lists of the gateway.
 */
public final class Cidrs {
    private final byte[][] networks;
    private final int[] prefixes;

    public static final Cidrs NONE = new Cidrs(List.of());

    public Cidrs(List<String> cidrs) {
        networks = new byte[cidrs.size()][];
        prefixes = new int[cidrs.size()];
        for (int i = 0; i < cidrs.size(); i++) {
            String c = cidrs.get(i);
            int slash = c.indexOf('/');
            try {
                networks[i] = InetAddress.getByName(slash < 0 ? c : c.substring(0, slash)).getAddress();
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("'" + c + "' is not an IP or CIDR");
            }
            prefixes[i] = slash < 0 ? networks[i].length * 8 : Integer.parseInt(c.substring(slash + 1));
        }
    }

    public boolean isEmpty() {
        return networks.length == 0;
    }

    /** Whether {@code address} is in one of the blocks. */
    public boolean contains(InetAddress address) {
        if (networks.length == 0 || address == null) return false;
        byte[] a = address.getAddress();
        for (int i = 0; i < networks.length; i++) {
            if (matches(networks[i], prefixes[i], a)) return true;
        }
        return false;
    }

    private static boolean matches(byte[] net, int prefix, byte[] a) {
        if (net.length != a.length) return false;
        int full = prefix / 8;
        for (int i = 0; i < full; i++) if (net[i] != a[i]) return false;
        int rest = prefix % 8;
        if (rest == 0) return true;
        int mask = (0xFF << (8 - rest)) & 0xFF;
        return (net[full] & mask) == (a[full] & mask);
    }
}
