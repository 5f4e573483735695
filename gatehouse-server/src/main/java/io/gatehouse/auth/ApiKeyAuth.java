package io.gatehouse.auth;

import io.gatehouse.config.ApiKeyAuthConfig;
import io.gatehouse.config.ConsumerConfig;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.filter.FilterContext;
import io.gatehouse.filter.NamedFilter;
import io.gatehouse.http.HttpExchange;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@code api_key}: the request carries the key of an enabled consumer in a header (or a query parameter). Keys are
 * kept only as SHA-256 hashes and compared in constant time; a key past its {@code expires} no longer works (the
 * overlap of a rotation).
 */
public final class ApiKeyAuth implements NamedFilter {
    /**
     * Which key the request used: the first 8 bytes of its SHA-256, in hex (the key's id for rate limits, never the
     * secret; one consumer's keys have different ids).
     */
    public static final io.netty.util.AttributeKey<String> KEY_ID = io.netty.util.AttributeKey.valueOf("gatehouse.api_key_id");
    private final AsciiString header;
    private final String query;
    private final boolean hide;
    private final ConsumerDirectory consumers;
    private final IdentityHeaders identityHeaders;
    private final AuthFailures failures;
    private final io.gatehouse.clock.Clock clock;

    public ApiKeyAuth(ApiKeyAuthConfig config, FilterContext context) {
        this.header = AsciiString.of(config.header());
        this.query = config.query();
        this.hide = config.hideCredentials();
        this.consumers = ConsumerDirectory.of(context);
        this.identityHeaders = new IdentityHeaders(config.upstreamHeaders());
        this.failures = new AuthFailures(context.listener(), context.route(), "api_key", "ApiKey", context.meters());
        this.clock = context.clock();
    }

    @Override
    public String name() {
        return "api_key";
    }

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        HttpHeaders h = exchange.request().headers();
        identityHeaders.strip(h);
        String key = h.get(header);
        if (key == null && query != null && exchange.query() != null) {
            List<String> values = new QueryStringDecoder("?" + exchange.query()).parameters().get(query);
            if (values != null && !values.isEmpty()) key = values.get(0);
        }
        if (key == null || key.isEmpty()) {
            failures.unauthorized(exchange, "missing_credentials", "an API key is required in the " + header + " header");
            return;
        }
        Consumers.KeyEntry entry = consumers.current().byKey(Consumers.sha256(key.getBytes(StandardCharsets.UTF_8)));
        if (entry == null) {
            failures.unauthorized(exchange, "unknown_api_key", "the API key is not valid");
            return;
        }
        if (clock.currentTimeMillis() >= entry.expiresMillis()) {
            failures.unauthorized(exchange, "expired_api_key", "the API key has expired; use its replacement");
            return;
        }
        ConsumerConfig consumer = entry.consumer();
        if (consumer.disabled()) {
            failures.forbidden(exchange, "consumer_disabled", "this consumer is disabled");
            return;
        }
        if (hide) {
            h.remove(header);
            if (query != null && exchange.query() != null) withoutQueryParameter(exchange);
        }
        Identity id = new Identity(consumer.name(), consumer.name(), List.of(), consumer.groups(), "api_key", null, true);
        exchange.attribute(Identity.KEY, id);
        exchange.attribute(KEY_ID, java.util.HexFormat.of().formatHex(entry.hash(), 0, 8));
        identityHeaders.set(h, id);
        chain.proceed(exchange);
    }

    /** Drops the key's query parameter from what goes upstream (the proxy rebuilds the URI from path and query). */
    private void withoutQueryParameter(HttpExchange exchange) {
        StringBuilder kept = new StringBuilder();
        for (String pair : exchange.query().split("&")) {
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            if (QueryStringDecoder.decodeComponent(name).equals(query)) continue;
            if (!kept.isEmpty()) kept.append('&');
            kept.append(pair);
        }
        exchange.query(kept.isEmpty() ? null : kept.toString());
    }
}
