package io.gatehouse.auth;

import io.gatehouse.config.BasicAuthConfig;
import io.gatehouse.config.ConsumerConfig;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.filter.FilterContext;
import io.gatehouse.filter.NamedFilter;
import io.gatehouse.http.HttpExchange;
import io.netty.handler.codec.http.HttpHeaderNames;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;

/**
 * {@code basic_auth}: {@code Authorization: Basic} with a consumer's name and password, checked against its bcrypt
 * or argon2id hash. A check takes tens of milliseconds by design, so it runs on a small shared pool and the chain
 * goes on later on the event loop; a pair that passed once is remembered (by a SHA-256 of name, password and hash)
 * so repeated requests cost a hash, not a check. The pool is bounded: when it is full, 503 rather than a queue.
 */
public final class BasicAuth implements NamedFilter {
    /** Shared by every basic_auth filter: at most one check per core at a time, 256 waiting. */
    private static final ExecutorService CHECKS = new java.util.concurrent.ThreadPoolExecutor(
            Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().availableProcessors(), 60, java.util.concurrent.TimeUnit.SECONDS,
            new java.util.concurrent.ArrayBlockingQueue<>(256), r -> {
                Thread t = new Thread(r, "gatehouse-password-check");
                t.setDaemon(true);
                return t;
            });

    private final ConsumerDirectory consumers;
    private final IdentityHeaders identityHeaders;
    private final AuthFailures failures;
    private final Set<String> passed = ConcurrentHashMap.newKeySet();   // bounded by consumers × their passwords

    public BasicAuth(BasicAuthConfig config, FilterContext context) {
        this.consumers = ConsumerDirectory.of(context);
        this.identityHeaders = new IdentityHeaders(config.upstreamHeaders());
        String realm = config.realm() == null ? context.route() : config.realm();
        this.failures = new AuthFailures(context.listener(), context.route(), "basic_auth", "Basic", context.meters(),
                "Basic realm=\"" + realm + "\", charset=\"UTF-8\"");
    }

    @Override
    public String name() {
        return "basic_auth";
    }

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        var h = exchange.request().headers();
        identityHeaders.strip(h);
        String value = h.get(HttpHeaderNames.AUTHORIZATION);
        if (value == null || !value.regionMatches(true, 0, "Basic ", 0, 6)) {
            failures.unauthorized(exchange, "missing_credentials", "user name and password are required");
            return;
        }
        String pair;
        try {
            pair = new String(Base64.getDecoder().decode(value.substring(6).strip()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            failures.unauthorized(exchange, "malformed_credentials", "the credentials are not valid base64");
            return;
        }
        int colon = pair.indexOf(':');
        if (colon < 0) {
            failures.unauthorized(exchange, "malformed_credentials", "the credentials are not user:password");
            return;
        }
        String user = pair.substring(0, colon);
        String password = pair.substring(colon + 1);
        ConsumerConfig consumer = consumers.byName(user);
        if (consumer == null || consumer.passwordHash() == null) {
            failures.unauthorized(exchange, "unknown_user", "the user name or password is wrong");
            return;
        }
        String memo = java.util.HexFormat.of().formatHex(Consumers.sha256((user + "\0" + password + "\0" + consumer.passwordHash())
                .getBytes(StandardCharsets.UTF_8)));
        if (passed.contains(memo)) {
            accept(exchange, chain, consumer);
            return;
        }
        chain.later(exchange);
        try {
            CHECKS.execute(() -> {
                boolean ok = PasswordHashes.matches(consumer.passwordHash(), password);
                if (ok) passed.add(memo);
                exchange.eventLoop().execute(() -> {
                    if (exchange.completed() || exchange.clientGone()) return;   // the client left meanwhile
                    if (ok) accept(exchange, chain, consumer);
                    else failures.unauthorized(exchange, "wrong_password", "the user name or password is wrong");
                });
            });
        } catch (RejectedExecutionException e) {
            failures.unavailable(exchange, "auth_overloaded", "too many logins at once; retry shortly");
        }
    }

    private void accept(HttpExchange exchange, FilterChain chain, ConsumerConfig consumer) {
        if (consumer.disabled()) {
            failures.forbidden(exchange, "consumer_disabled", "this consumer is disabled");
            return;
        }
        Identity id = new Identity(consumer.name(), consumer.name(), List.of(), consumer.groups(), "basic_auth", null, true);
        exchange.attribute(Identity.KEY, id);
        identityHeaders.set(exchange.request().headers(), id);
        chain.proceed(exchange);
    }
}
