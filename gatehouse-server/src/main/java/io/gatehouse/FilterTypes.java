package io.gatehouse;

import io.gatehouse.buffering.RequestBuffering;
import io.gatehouse.compression.RequestDecompression;
import io.gatehouse.compression.ResponseCompression;
import io.gatehouse.config.BufferRequestConfig;
import io.gatehouse.config.CompressionConfig;
import io.gatehouse.config.DecompressRequestsConfig;
import io.gatehouse.config.FilterConfig;
import io.gatehouse.config.HeadersConfig;
import io.gatehouse.config.RouteConfig;
import io.gatehouse.filter.Filter;
import io.gatehouse.filter.FilterContext;
import io.gatehouse.filter.FilterFactory;
import io.gatehouse.headers.HeaderRules;
import io.gatehouse.hsts.Hsts;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The filter types a {@code filters:} list may name: each a config record (bound from YAML by
 * {@link FilterConfig}) and a factory. The built-in ones are below; a program embedding Gatehouse adds its own with
 * {@link #register} before it loads a configuration.
 */
public final class FilterTypes {
    private record Type<C extends Record>(Class<C> config, FilterFactory<C> factory) {
        Filter create(Record settings, FilterContext context) {
            return factory.create(config.cast(settings), context);
        }
    }

    private static final Map<String, Type<?>> TYPES = new ConcurrentHashMap<>();

    static {
        builtIn("hsts", RouteConfig.HstsConfig.class, (c, ctx) -> new Hsts(c));
        builtIn("compression", CompressionConfig.class, (c, ctx) -> new ResponseCompression(c));
        builtIn("decompress_requests", DecompressRequestsConfig.class, (c, ctx) -> new RequestDecompression(c));
        builtIn("headers", HeadersConfig.class, (c, ctx) -> new HeaderRules(c));
        builtIn("buffer_request", BufferRequestConfig.class, (c, ctx) -> new RequestBuffering(c));
        builtIn("api_key", io.gatehouse.config.ApiKeyAuthConfig.class, io.gatehouse.auth.ApiKeyAuth::new);
        builtIn("jwt", io.gatehouse.config.JwtAuthConfig.class, io.gatehouse.auth.JwtAuth::new);
        builtIn("authorize", io.gatehouse.config.AuthorizeConfig.class, io.gatehouse.auth.Authorize::new);
        builtIn("rate_limit", io.gatehouse.config.RateLimitConfig.class, io.gatehouse.ratelimit.RateLimit::new);
        builtIn("concurrency_limit", io.gatehouse.config.ConcurrencyLimitConfig.class, io.gatehouse.ratelimit.ConcurrencyLimit::new);
        builtIn("cors", io.gatehouse.config.CorsConfig.class, io.gatehouse.cors.Cors::new);
        builtIn("basic_auth", io.gatehouse.config.BasicAuthConfig.class, io.gatehouse.auth.BasicAuth::new);
        builtIn("mtls_identity", io.gatehouse.config.MtlsIdentityConfig.class, io.gatehouse.auth.MtlsIdentity::new);
        builtIn("quota", io.gatehouse.config.QuotaConfig.class, io.gatehouse.ratelimit.Quota::new);
        builtIn("oidc", io.gatehouse.config.OidcConfig.class, io.gatehouse.auth.Oidc::new);
        builtIn("deny", io.gatehouse.config.DenyConfig.class, io.gatehouse.deny.Deny::new);
        builtIn("cache", io.gatehouse.config.CacheConfig.class, io.gatehouse.cache.CacheFilter::new);
    }

    private FilterTypes() {}

    private static <C extends Record> void builtIn(String name, Class<C> config, FilterFactory<C> factory) {
        if (FilterConfig.configType(name) != config) throw new IllegalStateException("filter type " + name + " is not bound to " + config);
        TYPES.put(name, new Type<>(config, factory));
    }

    /** Adds filter type {@code name}: {@code filters: [ { name: {...} } ]} then binds {@code config} and calls {@code factory}. */
    public static <C extends Record> void register(String name, Class<C> config, FilterFactory<C> factory) {
        FilterConfig.register(name, config);
        TYPES.put(name, new Type<>(config, factory));
    }

    /** The filter for one {@code filters:} entry. */
    static Filter create(FilterConfig entry, FilterContext context) {
        Type<?> type = TYPES.get(entry.type());
        if (type == null) throw new IllegalArgumentException("filter type " + entry.type() + " has no factory");
        return type.create(entry.settings(), context);
    }
}
