package io.gatehouse.tls;

import io.gatehouse.config.AlpnProtocol;
import io.gatehouse.config.TlsConfig;
import io.gatehouse.config.TlsConfig.CertificateConfig;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

/**
 * TLS termination for one listener: the certificates it serves, picked per handshake by SNI, and everything that
 * changes them without a restart. The served set is an immutable {@link Snapshot} behind a volatile field: a reload
 * (files changed, or the config) builds new {@link SslContext}s off the event loops and swaps the snapshot in, so new
 * handshakes see the new certificates and open connections keep the session they have. A file that fails to load is
 * refused with one log line and the certificate it would have replaced keeps serving.
 */
public final class ServerTls implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServerTls.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** One thread for every listener's file polling and ticket key rotation: both are rare and short. */
    private static final ScheduledExecutorService BACKGROUND = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gatehouse-tls");
        t.setDaemon(true);
        return t;
    });

    /**
     * A certificate being served: its context, names, stapled OCSP response, the file stamps it was built from and,
     * with {@code ocsp_fetch}, how its OCSP response is fetched.
     */
    record Served(SslContext context, X509Certificate leaf, List<String> names, byte[] ocsp, List<Stamp> stamps, OcspFetch fetch) {
        Served withOcsp(byte[] response) {
            return new Served(context, leaf, names, response, stamps, fetch);
        }
    }

    /** Contents of a file when last read (a checksum rather than mtime alone: replacements within a second count). */
    record Stamp(Path path, long size, long crc) {}

    /** What new handshakes use; {@code wildcard} is keyed by the part after {@code *.}. */
    record Snapshot(Served fallback, Map<String, Served> exact, Map<String, Served> wildcard) {
        Served pick(String sniName) {
            if (sniName == null || sniName.isEmpty()) return fallback;
            String name = sniName.toLowerCase(Locale.ROOT);
            Served s = exact.get(name);
            if (s != null) return s;
            int dot = name.indexOf('.');
            if (dot > 0) s = wildcard.get(name.substring(dot + 1));
            return s != null ? s : fallback;
        }
    }

    private final String listener;
    private TlsConfig config;                       // guarded by this
    private SslProvider provider;                   // guarded by this
    private List<Served> served;                    // guarded by this; aligned with config.certificates()
    private final Map<Integer, List<Stamp>> refused = new HashMap<>(); // guarded by this: stamps already refused, not re-logged
    private volatile Snapshot snapshot;
    private volatile OpenSslSessionTicketKey[] ticketKeys;
    private ScheduledFuture<?> watch;
    private ScheduledFuture<?> rotation;
    private volatile boolean closed;
    private final Map<Integer, Stapling> staplings = new HashMap<>(); // guarded by this: by certificate index
    private boolean toldStaplingNeedsOpenSsl;       // guarded by this

    private final io.gatehouse.clock.Clock clock;   // wall time: OCSP responses' validity

    private ServerTls(String listener, io.gatehouse.clock.Clock clock) {
        this.listener = listener;
        this.clock = clock;
    }

    /** Loads every certificate of {@code config}; fails (naming the file) when one cannot be used. */
    public static ServerTls create(String listener, TlsConfig config) {
        return create(listener, config, io.gatehouse.clock.Clock.system());
    }

    /** As {@link #create(String, TlsConfig)}, dating OCSP responses by {@code clock}. */
    public static ServerTls create(String listener, TlsConfig config, io.gatehouse.clock.Clock clock) {
        ServerTls tls = new ServerTls(listener, clock);
        synchronized (tls) {
            tls.ticketKeys = new OpenSslSessionTicketKey[] {newTicketKey()};
            try {
                SslProvider provider = TlsProvider.select(config.provider());
                tls.install(config, tls.buildAll(config, provider), provider);
            } catch (PemFiles.BadFileException e) {
                throw new IllegalArgumentException("listener " + listener + ": " + e.getMessage(), e);
            }
            tls.schedule();
        }
        return tls;
    }

    /** The handler that starts each connection's pipeline: reads the ClientHello's SNI, then becomes the SslHandler. */
    public ChannelHandler newHandler() {
        return new Sni();
    }

    public synchronized SslProvider provider() {
        return provider;
    }

    /**
     * A new configuration (config reload). Everything is rebuilt; if any file cannot be used, the change is refused
     * with one log line and what served before keeps serving.
     *
     * @return whether the new configuration is now serving
     */
    public synchronized boolean reconfigure(TlsConfig next) {
        if (next.equals(config)) {
            checkNow();
            return true;
        }
        try {
            SslProvider p = TlsProvider.select(next.provider());
            install(next, buildAll(next, p), p);
        } catch (PemFiles.BadFileException | RuntimeException e) {
            log.warn("listener {}: new TLS configuration refused, still serving the previous certificates: {}", listener, e.getMessage());
            return false;
        }
        schedule();
        return true;
    }

    /**
     * Reloads the certificates whose files changed since they were loaded. Runs every {@code reload_interval} on a
     * background thread; callable at any time (tests, an admin action).
     *
     * @return how many certificates were replaced
     */
    public synchronized int checkNow() {
        if (closed) return 0;
        List<CertificateConfig> certs = config.certificates();
        List<Served> next = new ArrayList<>(served);
        int replaced = 0;
        for (int i = 0; i < certs.size(); i++) {
            List<Stamp> now = stamps(certs.get(i), config);
            if (now.equals(served.get(i).stamps()) || now.equals(refused.get(i))) continue;
            try {
                Served s = build(certs.get(i), config, provider, now);
                next.set(i, s);
                refused.remove(i);
                replaced++;
                log.info("listener {}: certificate reloaded from {} (subject {}, serial {})", listener, certs.get(i).cert(),
                        s.leaf().getSubjectX500Principal().getName(), s.leaf().getSerialNumber().toString(16));
            } catch (PemFiles.BadFileException | RuntimeException e) {
                refused.put(i, now);
                log.warn("listener {}: changed certificate refused, still serving the previous one: {}", listener, e.getMessage());
            }
        }
        if (replaced > 0) install(config, next, provider);
        return replaced;
    }

    /** A new session ticket key encrypts from now on; the previous one still decrypts tickets it issued. */
    public synchronized void rotateTicketKeys() {
        OpenSslSessionTicketKey[] old = ticketKeys;
        ticketKeys = new OpenSslSessionTicketKey[] {newTicketKey(), old[0]};
        for (Served s : served) applyTicketKeys(s.context());
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (watch != null) watch.cancel(false);
        if (rotation != null) rotation.cancel(false);
        for (Stapling s : staplings.values()) s.cancel();
        staplings.clear();
    }

    /**
     * Fetches every {@code ocsp_fetch} certificate's OCSP response now, waiting for the answers (tests, an admin
     * action); the regular schedule goes on from each result.
     *
     * @return how many responses were fetched, verified and are now stapled
     */
    int refreshOcspNow() {
        List<CompletableFuture<Boolean>> pending = new ArrayList<>();
        synchronized (this) {
            for (Stapling s : staplings.values()) pending.add(s.refresh());
        }
        int stapled = 0;
        for (CompletableFuture<Boolean> f : pending) if (f.join()) stapled++;
        return stapled;
    }

    // ---- building ----

    private void install(TlsConfig config, List<Served> built, SslProvider provider) {
        this.config = config;
        this.provider = provider;
        List<Served> list = new ArrayList<>(built);
        reconcileStaplings(list);
        publish(list);
    }

    /** New handshakes use {@code list} from now on. */
    private void publish(List<Served> list) {
        this.served = List.copyOf(list);
        Map<String, Served> exact = new HashMap<>();
        Map<String, Served> wildcard = new HashMap<>();
        for (Served s : list) {
            for (String n : s.names()) {
                // the first certificate listed for a name wins, as the order in the file says
                if (n.startsWith("*.")) wildcard.putIfAbsent(n.substring(2), s); else exact.putIfAbsent(n, s);
            }
        }
        snapshot = new Snapshot(list.get(0), Map.copyOf(exact), Map.copyOf(wildcard));
    }

    /**
     * Keeps the fetch of a certificate that is still served (and staples its last good response on the rebuilt
     * context), starts fetches for new certificates and stops those of certificates gone.
     */
    private void reconcileStaplings(List<Served> list) {
        boolean wantsStapling = list.stream().anyMatch(s -> s.fetch() != null || s.ocsp() != null);
        if (provider != SslProvider.OPENSSL && wantsStapling && !toldStaplingNeedsOpenSsl) {
            toldStaplingNeedsOpenSsl = true;
            log.warn("listener {}: OCSP stapling needs the OpenSSL provider; with the {} provider no OCSP response is stapled",
                    listener, provider);
        }
        for (var it = staplings.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            int i = e.getKey();
            Served s = i < list.size() ? list.get(i) : null;
            if (s == null || s.fetch() == null || provider != SslProvider.OPENSSL || !s.leaf().equals(e.getValue().fetch.leaf())) {
                e.getValue().cancel();
                it.remove();
            }
        }
        if (provider != SslProvider.OPENSSL) return;
        for (int i = 0; i < list.size(); i++) {
            Served s = list.get(i);
            if (s.fetch() == null) continue;
            Stapling kept = staplings.get(i);
            if (kept != null) {
                list.set(i, s.withOcsp(kept.current()));
            } else {
                Stapling started = new Stapling(s.fetch());
                staplings.put(i, started);
                started.start();
            }
        }
    }

    /** A fetched response (or none, when the last one expired) is stapled to new handshakes of its certificate. */
    private synchronized void staple(Stapling stapling, byte[] response) {
        for (var e : staplings.entrySet()) {
            if (e.getValue() != stapling) continue;
            List<Served> next = new ArrayList<>(served);
            next.set(e.getKey(), served.get(e.getKey()).withOcsp(response));
            publish(next);
            return;
        }
    }

    private List<Served> buildAll(TlsConfig config, SslProvider provider) throws PemFiles.BadFileException {
        List<Served> list = new ArrayList<>();
        for (CertificateConfig c : config.certificates()) list.add(build(c, config, provider, stamps(c, config)));
        refused.clear();
        return list;
    }

    private Served build(CertificateConfig c, TlsConfig t, SslProvider provider, List<Stamp> stamps) throws PemFiles.BadFileException {
        PemFiles.KeyMaterial km = PemFiles.keyMaterial(Path.of(c.cert()), Path.of(c.key()));
        byte[] ocsp = null;
        OcspFetch fetch = null;
        if (c.ocspResponse() == null && c.ocspFetch()) {
            if (km.chain().size() < 2) {
                throw new PemFiles.BadFileException(c.cert() + ": ocsp_fetch needs the issuer certificate after the certificate", null);
            }
            try {
                fetch = OcspFetch.of(km.leaf(), km.chain().get(1));
            } catch (IllegalArgumentException e) {
                throw new PemFiles.BadFileException(c.cert() + ": " + e.getMessage(), e);
            }
        }
        if (c.ocspResponse() != null) {
            try {
                ocsp = Files.readAllBytes(Path.of(c.ocspResponse()));
            } catch (IOException e) {
                throw new PemFiles.BadFileException(c.ocspResponse() + ": cannot read the OCSP response: " + e.getMessage(), e);
            }
        }
        SslContextBuilder b = SslContextBuilder.forServer(km.key(), km.chain().toArray(new X509Certificate[0]))
                .sslProvider(provider)
                .protocols(TlsProvider.protocols(t.minVersion()))
                .ciphers(TlsProvider.ciphers(t.ciphers()), SupportedCipherSuiteFilter.INSTANCE)
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, AlpnProtocol.ids(t.alpn())));
        if (t.clientAuth() != io.gatehouse.config.ClientAuthMode.NONE) {
            List<X509Certificate> cas = PemFiles.certificates(Path.of(t.clientCa()));
            b.trustManager(cas.toArray(new X509Certificate[0]))
                    .clientAuth(t.clientAuth() == io.gatehouse.config.ClientAuthMode.REQUIRE ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL);
        }
        if ((ocsp != null || fetch != null) && provider == SslProvider.OPENSSL) b.enableOcsp(true);
        SslContext context;
        try {
            context = b.build();
        } catch (javax.net.ssl.SSLException | RuntimeException e) {
            throw new PemFiles.BadFileException(c.cert() + ": cannot serve this certificate: " + e.getMessage(), e);
        }
        applyTicketKeys(context);
        List<String> names = c.serverNames().isEmpty() ? ClientCertificate.dnsNames(km.leaf()) : c.serverNames();
        return new Served(context, km.leaf(), names, ocsp, stamps, fetch);
    }

    private void applyTicketKeys(SslContext context) {
        if (context.sessionContext() instanceof OpenSslSessionContext session) session.setTicketKeys(ticketKeys);
    }

    private static OpenSslSessionTicketKey newTicketKey() {
        byte[] name = new byte[OpenSslSessionTicketKey.NAME_SIZE];
        byte[] hmac = new byte[OpenSslSessionTicketKey.HMAC_KEY_SIZE];
        byte[] aes = new byte[OpenSslSessionTicketKey.AES_KEY_SIZE];
        RANDOM.nextBytes(name);
        RANDOM.nextBytes(hmac);
        RANDOM.nextBytes(aes);
        return new OpenSslSessionTicketKey(name, hmac, aes);
    }

    private static List<Stamp> stamps(CertificateConfig c, TlsConfig t) {
        List<Stamp> out = new ArrayList<>(4);
        out.add(stamp(c.cert()));
        out.add(stamp(c.key()));
        if (c.ocspResponse() != null) out.add(stamp(c.ocspResponse()));
        if (t.clientCa() != null && t.clientAuth() != io.gatehouse.config.ClientAuthMode.NONE) out.add(stamp(t.clientCa()));
        return out;
    }

    private static Stamp stamp(String file) {
        Path p = Path.of(file);
        try {
            byte[] bytes = Files.readAllBytes(p);
            CRC32 crc = new CRC32();
            crc.update(bytes);
            return new Stamp(p, bytes.length, crc.getValue());
        } catch (IOException e) {
            return new Stamp(p, -1, 0); // missing or unreadable: a reload attempt will say why
        }
    }

    private void schedule() {
        if (watch != null) watch.cancel(false);
        if (rotation != null) rotation.cancel(false);
        long every = config.reloadInterval().toMillis();
        if (every > 0) watch = BACKGROUND.scheduleWithFixedDelay(this::backgroundCheck, every, every, TimeUnit.MILLISECONDS);
        if (provider == SslProvider.OPENSSL) {
            long rotate = config.sessionTicketRotation().toMillis();
            rotation = BACKGROUND.scheduleAtFixedRate(this::rotateTicketKeys, rotate, rotate, TimeUnit.MILLISECONDS);
        }
    }

    private void backgroundCheck() {
        try {
            checkNow();
        } catch (RuntimeException e) {
            log.warn("listener {}: certificate check failed: {}", listener, e.toString());
        }
    }

    /**
     * The fetched OCSP response of one certificate: fetched at start, refreshed at half its validity, retried with
     * backoff on failure; the last good response stays stapled until its nextUpdate.
     */
    private final class Stapling {
        private static final Duration FIRST_RETRY = Duration.ofSeconds(2);
        private static final Duration MAX_RETRY = Duration.ofMinutes(10);
        private static final Duration MIN_REFRESH = Duration.ofSeconds(10);
        private static final long WARN_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

        final OcspFetch fetch;
        private OcspFetch.Good good;        // guarded by ServerTls.this
        private ScheduledFuture<?> next;    // guarded by ServerTls.this
        private boolean cancelled;          // guarded by ServerTls.this
        private int failures;               // guarded by ServerTls.this
        private String lastWarning;         // guarded by ServerTls.this
        private long lastWarningNanos;      // guarded by ServerTls.this
        private int quiet;                  // guarded by ServerTls.this: failures not logged since lastWarning

        Stapling(OcspFetch fetch) {
            this.fetch = fetch;
        }

        void start() {
            reschedule(Duration.ZERO);
        }

        void cancel() {
            cancelled = true;
            if (next != null) next.cancel(false);
        }

        /** The response to staple now: the last good one unless it expired. */
        byte[] current() {
            return good == null || good.expired(clock.instant()) ? null : good.der();
        }

        /** Completes with whether a fresh response is now stapled. */
        CompletableFuture<Boolean> refresh() {
            return fetch.fetch().handle((g, error) -> {
                synchronized (ServerTls.this) {
                    if (cancelled || closed) return false;
                    if (g != null) succeeded(g); else failed(error);
                    return g != null;
                }
            });
        }

        private void succeeded(OcspFetch.Good g) {
            good = g;
            failures = 0;
            quiet = 0;
            lastWarning = null;
            staple(this, g.der());
            Instant now = clock.instant();
            Duration half = Duration.between(g.thisUpdate(), g.nextUpdate()).dividedBy(2);
            Duration in = Duration.between(now, g.thisUpdate().plus(half));
            if (in.compareTo(MIN_REFRESH) < 0) in = MIN_REFRESH;
            log.info("listener {}: OCSP response for {} (serial {}) fetched from {}, stapled until {}, next refresh in {}s",
                    listener, fetch.leaf().getSubjectX500Principal().getName(), fetch.leaf().getSerialNumber().toString(16),
                    fetch.responder(), g.nextUpdate(), in.toSeconds());
            reschedule(in);
        }

        private void failed(Throwable error) {
            failures++;
            Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
            String why = cause.getMessage() != null ? cause.getMessage() : cause.toString();
            Instant now = clock.instant();
            boolean expiredNow = good != null && good.expired(now);
            if (expiredNow) {
                good = null;
                staple(this, null);
            }
            Duration retry = FIRST_RETRY.multipliedBy(1L << Math.min(failures - 1, 20));
            if (retry.compareTo(MAX_RETRY) > 0) retry = MAX_RETRY;
            if (good != null) {
                // retry before the stapled response expires, so a recovered responder is asked in time
                Duration left = Duration.between(now, good.nextUpdate());
                if (left.compareTo(retry) < 0) retry = left.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : left;
            }
            long nanos = System.nanoTime();
            // one line per failure, but the same failure repeated by a down responder at most once a minute
            if (expiredNow || !why.equals(lastWarning) || nanos - lastWarningNanos >= WARN_EVERY_NANOS) {
                log.warn("listener {}: OCSP fetch for {} failed: {}; {}, retrying in {}s{}", listener,
                        fetch.leaf().getSubjectX500Principal().getName(), why,
                        good != null ? "still stapling the response valid until " + good.nextUpdate()
                                : expiredNow ? "the stapled response expired, stapling none" : "stapling none",
                        retry.toSeconds(), quiet > 0 ? " (" + quiet + " similar failures not logged)" : "");
                lastWarning = why;
                lastWarningNanos = nanos;
                quiet = 0;
            } else {
                quiet++;
            }
            reschedule(retry);
        }

        private void reschedule(Duration in) {
            if (cancelled) return;
            if (next != null) next.cancel(false);
            next = BACKGROUND.schedule(() -> {
                refresh();
            }, in.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** The certificate picked for a handshake, per connection, so its OCSP response is stapled on the right engine. */
    private final class Sni extends SniHandler {
        private Served chosen;

        Sni() {
            super(name -> snapshot.pick(name).context(), 16 * 1024, 10_000);
        }

        @Override
        protected Future<SslContext> lookup(ChannelHandlerContext ctx, String hostname) {
            chosen = snapshot.pick(hostname);
            return ctx.executor().newSucceededFuture(chosen.context());
        }

        @Override
        protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
            SslHandler handler = super.newSslHandler(context, allocator);
            Served s = chosen;
            if (s != null && s.ocsp() != null && Objects.equals(s.context(), context)
                    && handler.engine() instanceof ReferenceCountedOpenSslEngine engine) {
                engine.setOcspResponse(s.ocsp());
            }
            return handler;
        }
    }
}
