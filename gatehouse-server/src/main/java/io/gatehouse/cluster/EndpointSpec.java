package io.gatehouse.cluster;

import io.gatehouse.config.HostPort;

import java.net.InetSocketAddress;

/**
 * One endpoint as a source of endpoints sees it (the config file, DNS, a registry): what {@link Cluster} builds an
 * {@link Endpoint} from, or matches a running one against.
 *
 * @param address       unique within the cluster: the configured address, or {@code ip:port} for a resolved name
 * @param authority     {@code host:port} for the Host header and the TLS server name
 * @param socketAddress what to connect to (resolved)
 * @param weight        1..1000
 * @param backup        used only when no primary is healthy
 * @param source        {@code static}, {@code dns}, {@code zookeeper} or {@code kubernetes}
 */
public record EndpointSpec(String address, String authority, InetSocketAddress socketAddress, int weight, boolean backup,
                           String source) {

    /** An endpoint at a resolved address: its unique address is {@code ip:port} (brackets around IPv6). */
    public static EndpointSpec resolved(String authority, InetSocketAddress socketAddress, int weight, boolean backup,
                                        String source) {
        return new EndpointSpec(HostPort.format(socketAddress), authority, socketAddress, weight, backup, source);
    }

    /** True when {@code e} is this endpoint: same address, connected to the same place, same role. */
    boolean matches(Endpoint e) {
        return e.address().equals(address) && e.backup() == backup && e.socketAddress().equals(socketAddress)
                && e.authority().equals(authority);
    }
}
