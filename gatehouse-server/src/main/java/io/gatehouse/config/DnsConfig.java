package io.gatehouse.config;

import java.time.Duration;
import java.util.List;

/**
 * How a cluster's endpoints given as host names are resolved, and re-resolved as their DNS TTL says (bounded by
 * {@code min_refresh} and {@code max_refresh}). Every A and AAAA record of a name becomes an endpoint.
 *
 * @param servers    DNS servers as {@code ip} or {@code ip:port} (port 53 by default); empty: the system's
 *                   ({@code /etc/resolv.conf})
 * @param minRefresh a name is not asked again sooner than this, whatever its TTL (default 1s); also the wait
 *                   before asking again after a failed lookup
 * @param maxRefresh a name is asked again at least this often, whatever its TTL (default 60s)
 * @param timeout    one query's timeout (default 2s)
 */
public record DnsConfig(List<String> servers, Duration minRefresh, Duration maxRefresh, Duration timeout) {
    public static final DnsConfig DEFAULT = new DnsConfig(null, null, null, null);

    public DnsConfig {
        servers = servers == null ? List.of() : List.copyOf(servers);
        for (String s : servers) server(s);
        minRefresh = minRefresh == null ? Duration.ofSeconds(1) : minRefresh;
        maxRefresh = maxRefresh == null ? Duration.ofSeconds(60) : maxRefresh;
        timeout = timeout == null ? Duration.ofSeconds(2) : timeout;
        if (minRefresh.isZero()) throw new IllegalArgumentException("min_refresh: must be above 0");
        if (maxRefresh.compareTo(minRefresh) < 0) throw new IllegalArgumentException("max_refresh: must be >= min_refresh (" + minRefresh + ")");
        if (timeout.isZero()) throw new IllegalArgumentException("timeout: must be above 0");
    }

    /** The servers as socket addresses (port 53 when not given). */
    public List<java.net.InetSocketAddress> serverAddresses() {
        return servers.stream().map(DnsConfig::server).toList();
    }

    private static java.net.InetSocketAddress server(String s) {
        String text = s.strip();
        if (io.netty.util.NetUtil.isValidIpV4Address(text) || io.netty.util.NetUtil.isValidIpV6Address(text)) {
            return new java.net.InetSocketAddress(io.netty.util.NetUtil.createInetAddressFromIpAddressString(text), 53);
        }
        if (text.indexOf(':') < 0) throw new IllegalArgumentException("servers: '" + s + "' is not an IP address (a DNS server cannot be a name)");
        HostPort hp;
        try {
            hp = HostPort.parse(text, false);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("servers: " + e.getMessage());
        }
        if (!io.netty.util.NetUtil.isValidIpV4Address(hp.host()) && !hp.isIpv6()) {
            throw new IllegalArgumentException("servers: '" + s + "' is not an IP address (a DNS server cannot be a name)");
        }
        return new java.net.InetSocketAddress(io.netty.util.NetUtil.createInetAddressFromIpAddressString(hp.host()), hp.port());
    }
}
