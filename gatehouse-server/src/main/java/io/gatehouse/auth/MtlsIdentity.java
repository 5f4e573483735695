package io.gatehouse.auth;

import io.gatehouse.config.ConsumerConfig;
import io.gatehouse.config.MtlsIdentityConfig;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.filter.FilterContext;
import io.gatehouse.filter.NamedFilter;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.tls.ClientCertificate;

import java.util.List;

/** {@code mtls_identity}: the verified client certificate's first SAN (or CN) names a configured consumer. */
public final class MtlsIdentity implements NamedFilter {
    private final boolean fromSan;
    private final ConsumerDirectory consumers;
    private final IdentityHeaders identityHeaders;
    private final AuthFailures failures;

    public MtlsIdentity(MtlsIdentityConfig config, FilterContext context) {
        this.fromSan = config.from() == io.gatehouse.config.MtlsIdentityConfig.From.SAN;
        this.consumers = ConsumerDirectory.of(context);
        this.identityHeaders = new IdentityHeaders(config.upstreamHeaders());
        this.failures = new AuthFailures(context.listener(), context.route(), "mtls", "Mutual", context.meters(), null);
    }

    @Override
    public String name() {
        return "mtls_identity";
    }

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        identityHeaders.strip(exchange.request().headers());
        ClientCertificate cert = exchange.connection().clientCertificate();
        if (cert == null) {
            failures.unauthorized(exchange, "missing_client_certificate", "a client certificate is required");
            return;
        }
        String name = fromSan ? (cert.sans().isEmpty() ? null : cert.sans().get(0)) : cn(cert.subject());
        ConsumerConfig consumer = consumers.byName(name);
        if (consumer == null) {
            failures.unauthorized(exchange, "unknown_client_certificate", "the client certificate names no consumer");
            return;
        }
        if (consumer.disabled()) {
            failures.forbidden(exchange, "consumer_disabled", "this consumer is disabled");
            return;
        }
        Identity id = new Identity(consumer.name(), name, List.of(), consumer.groups(), "mtls", null, true);
        exchange.attribute(Identity.KEY, id);
        identityHeaders.set(exchange.request().headers(), id);
        chain.proceed(exchange);
    }

    private static String cn(String subject) {
        for (String part : subject.split(",")) {
            String p = part.strip();
            if (p.regionMatches(true, 0, "CN=", 0, 3)) return p.substring(3);
        }
        return null;
    }
}
