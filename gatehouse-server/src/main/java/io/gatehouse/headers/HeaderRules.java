package io.gatehouse.headers;

import io.gatehouse.config.HeadersConfig;
import io.gatehouse.config.HeadersConfig.HeaderRulesConfig;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.filter.NamedFilter;
import io.gatehouse.http.ForwardingResponseSink;
import io.gatehouse.http.HttpExchange;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;


/**
 * {@code headers}: rewrites request headers before the rest of the chain sees them, and response headers on the way
 * back (final responses only, Gatehouse's own answers included). Remove, then set, then add.
 */
public final class HeaderRules implements NamedFilter {
    private final Rules request;
    private final Rules response;

    public HeaderRules(HeadersConfig config) {
        this.request = config.request().isEmpty() ? null : new Rules(config.request());
        this.response = config.response().isEmpty() ? null : new Rules(config.response());
    }

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        if (request != null) request.apply(exchange.request().headers());
        if (response != null) {
            exchange.wrapResponse(next -> ForwardingResponseSink.finalHeaders(next, response::apply));
        }
        chain.proceed(exchange);
    }

    @Override
    public String name() {
        return "headers";
    }

    /** Names and values made into AsciiStrings once, when the route is built. */
    private static final class Rules {
        private final AsciiString[] remove;
        private final AsciiString[] setNames, setValues, addNames, addValues;

        Rules(HeaderRulesConfig c) {
            remove = c.remove().stream().map(AsciiString::of).toArray(AsciiString[]::new);
            var set = java.util.List.copyOf(c.set().entrySet());
            var add = java.util.List.copyOf(c.add().entrySet());
            setNames = set.stream().map(e -> name(e.getKey())).toArray(AsciiString[]::new);
            setValues = set.stream().map(e -> AsciiString.of(e.getValue())).toArray(AsciiString[]::new);
            addNames = add.stream().map(e -> name(e.getKey())).toArray(AsciiString[]::new);
            addValues = add.stream().map(e -> AsciiString.of(e.getValue())).toArray(AsciiString[]::new);
        }

        void apply(HttpHeaders h) {
            for (AsciiString name : remove) h.remove(name);
            for (int i = 0; i < setNames.length; i++) h.set(setNames[i], setValues[i]);
            for (int i = 0; i < addNames.length; i++) h.add(addNames[i], addValues[i]);
        }

        private static AsciiString name(String name) {
            return AsciiString.of(name.toLowerCase(java.util.Locale.ROOT));
        }
    }
}
