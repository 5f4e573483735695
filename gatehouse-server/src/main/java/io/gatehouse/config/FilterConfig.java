package io.gatehouse.config;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One entry of a {@code filters:} list: the filter's type name and its settings, as a record of that type's config
 * class. In YAML each entry is a mapping with one key, the type:
 * <pre>
 * filters:
 *   - headers: { request: { set: { x-env: prod } } }
 *   - buffer_request: { max_size: 1MiB }
 *   - compression: {}
 * </pre>
 * The types and their config records are registered here (built-ins below; an embedding program adds its own with
 * {@link #register}, before loading a file, through {@code io.gatehouse.FilterTypes}).
 *
 * @param type     the type name, e.g. {@code headers}
 * @param settings its configuration, an instance of the type's config record
 */
public record FilterConfig(String type, Record settings) {
    private static final Map<String, Class<? extends Record>> TYPES = new ConcurrentHashMap<>(Map.ofEntries(
            Map.entry("hsts", RouteConfig.HstsConfig.class),
            Map.entry("compression", CompressionConfig.class),
            Map.entry("decompress_requests", DecompressRequestsConfig.class),
            Map.entry("headers", HeadersConfig.class),
            Map.entry("buffer_request", BufferRequestConfig.class),
            Map.entry("api_key", ApiKeyAuthConfig.class),
            Map.entry("jwt", JwtAuthConfig.class),
            Map.entry("authorize", AuthorizeConfig.class),
            Map.entry("rate_limit", RateLimitConfig.class),
            Map.entry("concurrency_limit", ConcurrencyLimitConfig.class),
            Map.entry("cors", CorsConfig.class),
            Map.entry("basic_auth", BasicAuthConfig.class),
            Map.entry("mtls_identity", MtlsIdentityConfig.class),
            Map.entry("quota", QuotaConfig.class),
            Map.entry("oidc", OidcConfig.class),
            Map.entry("deny", DenyConfig.class),
            Map.entry("cache", CacheConfig.class)));

    public FilterConfig {
        if (type == null || !TYPES.containsKey(type)) throw new IllegalArgumentException("unknown filter type '" + type + "'");
        if (settings == null || !TYPES.get(type).isInstance(settings)) {
            throw new IllegalArgumentException("filter " + type + " takes a " + TYPES.get(type).getSimpleName());
        }
    }

    /** The config record class of filter type {@code type}, or null if there is no such type. */
    public static Class<? extends Record> configType(String type) {
        return TYPES.get(type);
    }

    /** Every registered type name, sorted. */
    public static Set<String> types() {
        return new TreeMap<>(TYPES).keySet();
    }

    /** Makes {@code type} a valid entry of {@code filters:}, configured by {@code config}. */
    public static void register(String type, Class<? extends Record> config) {
        if (!type.matches("[a-z][a-z0-9_]*")) throw new IllegalArgumentException("filter type names are snake_case: " + type);
        Class<? extends Record> before = TYPES.putIfAbsent(type, config);
        if (before != null && before != config) throw new IllegalArgumentException("filter type " + type + " is already registered");
    }
}
