package io.gatehouse.config;

/**
 * The admin listener (JSON API, metrics, dashboard).
 *
 * @param address host:port; loopback by default; {@code off} disables it
 * @param token   required bearer token when bound to a non-loopback address
 */
public record AdminConfig(String address, String token) {
    public static final AdminConfig DEFAULT = new AdminConfig(null, null);

    public AdminConfig {
        address = address == null ? "127.0.0.1:9090" : address;
    }

    public boolean enabled() {
        return !"off".equals(address);
    }
}
