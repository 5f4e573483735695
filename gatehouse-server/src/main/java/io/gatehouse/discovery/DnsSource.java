package io.gatehouse.discovery;

import io.gatehouse.clock.Clock;
import io.gatehouse.cluster.EndpointSpec;
import io.gatehouse.config.ClusterConfig.EndpointConfig;
import io.gatehouse.config.DnsConfig;
import io.gatehouse.config.HostPort;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.NoopAuthoritativeDnsServerCache;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The endpoints of a cluster whose file lists host names: each name is asked for its A and AAAA records, every address
 * becomes an endpoint with the name's weight, and the name is asked again when the shortest TTL of its answer runs
 * out, never sooner than {@code min_refresh} nor later than {@code max_refresh}. A lookup that fails, times out or
 * finds no address keeps the name's last good addresses (nginx#1656: a changed A record must not leave "no live
 * upstreams"), is logged and counted, and is tried again after {@code min_refresh}. IP addresses in the same list are
 * kept as they are.
 *
 * <p>Lookups run on the discovery thread with Netty's non-blocking resolver, its caches off (the TTL is honoured
 * here, against the injectable clock). A timer on that thread looks every {@link #TICK_MILLIS} ms for names due.
 */
final class DnsSource implements EndpointSource {
    private static final Logger log = LoggerFactory.getLogger(DnsSource.class);
    /** How often due names are looked for: the lateness of a refresh, at most. */
    static final long TICK_MILLIS = 100;
    /** Queries one lookup may make (servers tried in turn, CNAMEs followed): bounds a lookup at this × timeout. */
    static final int MAX_QUERIES = 4;

    private final String cluster;
    private final DnsConfig config;
    private final EventLoop loop;
    private final Clock clock;
    private final DnsNameResolver resolver;
    private final List<EndpointSpec> fixed = new ArrayList<>();   // IP addresses from the file
    private final List<Name> names = new ArrayList<>();           // confined to loop after start
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong lookups = new AtomicLong();
    private volatile Consumer<List<EndpointSpec>> update;
    private volatile List<EndpointSpec> published = List.of();
    private ScheduledFuture<?> tick;   // confined to loop
    private volatile boolean closed;

    /** One host name of the file and what is known of it. */
    private static final class Name {
        final EndpointConfig config;
        final HostPort hostPort;
        volatile List<EndpointSpec> current = List.of();   // last good addresses
        volatile long dueNanos;
        volatile long ttlSeconds = -1;
        volatile String lastError;
        boolean inFlight;

        Name(EndpointConfig config) {
            this.config = config;
            this.hostPort = HostPort.parse(config.address(), false);
        }
    }

    DnsSource(String cluster, List<EndpointConfig> endpoints, DnsConfig config, EventLoop loop, Clock clock) {
        this.cluster = cluster;
        this.config = config;
        this.loop = loop;
        this.clock = clock;
        for (EndpointConfig ec : endpoints) {
            if (Discovery.isIpLiteral(ec.address())) {
                InetSocketAddress a = HostPort.parse(ec.address(), false).resolve();   // a literal: no lookup
                fixed.add(new EndpointSpec(ec.address(), ec.address(), a, ec.weight(), ec.backup(), "static"));
            } else {
                names.add(new Name(ec));
            }
        }
        DnsNameResolverBuilder b = new DnsNameResolverBuilder(loop)
                .datagramChannelType(NioDatagramChannel.class)
                .queryTimeoutMillis(config.timeout().toMillis())
                // the TTL is honoured here, against the injectable clock: the resolver's own caches would hide changes
                .resolveCache(NoopDnsCache.INSTANCE)
                .cnameCache(NoopDnsCnameCache.INSTANCE)
                .authoritativeDnsServerCache(NoopAuthoritativeDnsServerCache.INSTANCE)
                .maxQueriesPerResolve(MAX_QUERIES)
                .recursionDesired(true);
        b.nameServerProvider(config.servers().isEmpty() ? DnsServerAddressStreamProviders.platformDefault()
                : new SequentialDnsServerAddressStreamProvider(config.serverAddresses().toArray(new InetSocketAddress[0])));
        this.resolver = b.build();
    }

    @Override
    public String kind() {
        return "dns";
    }

    @Override
    public List<EndpointSpec> initial(List<EndpointSpec> fallback) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (Name n : names) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            loop.execute(() -> lookup(n, () -> {
                done.complete(null);
                publishIfChanged();   // an answer later than the wait below still reaches the cluster
            }));
            all.add(done);
        }
        try {
            // a lookup may retry within MAX_QUERIES queries of the timeout each; the first use also loads the resolver
            CompletableFuture.allOf(all.toArray(new CompletableFuture[0]))
                    .get(Math.max(5_000, config.timeout().toMillis() * MAX_QUERIES + 1000), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            log.warn("dns: cluster={} first lookup incomplete: {}", cluster, e.toString());
        }
        for (Name n : names) {
            if (n.current.isEmpty()) {
                // not resolved now: what the cluster being replaced had for this name, if anything
                n.current = fallback.stream().filter(s -> s.authority().equals(n.config.address()) && s.source().equals("dns")).toList();
                if (n.current.isEmpty()) {
                    log.warn("dns: cluster={} name={} has no address yet ({}); it has no endpoint until it resolves",
                            cluster, n.config.address(), n.lastError == null ? "no answer yet" : n.lastError);
                }
            }
        }
        published = union();
        return published;
    }

    @Override
    public void start(Consumer<List<EndpointSpec>> update) {
        this.update = update;
        loop.execute(() -> {
            if (closed) return;
            publishIfChanged();   // answers that came in after initial()
            tick = loop.scheduleAtFixedRate(this::refreshDue, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        });
    }

    /** On the loop: looks up every name whose time has come. */
    private void refreshDue() {
        if (closed) return;
        long now = clock.nanoTime();
        for (Name n : names) {
            if (!n.inFlight && now - n.dueNanos >= 0) lookup(n, this::publishIfChanged);
        }
    }

    /** On the loop: asks for the A and AAAA records of {@code n}; {@code then} runs once both are in. */
    private void lookup(Name n, Runnable then) {
        n.inFlight = true;
        lookups.incrementAndGet();
        String host = n.hostPort.host();
        Future<List<DnsRecord>> a = resolver.resolveAll(new DefaultDnsQuestion(host, DnsRecordType.A));
        Future<List<DnsRecord>> aaaa = resolver.resolveAll(new DefaultDnsQuestion(host, DnsRecordType.AAAA));
        a.addListener(x -> aaaa.addListener(y -> {
            try {
                resolved(n, a, aaaa);
            } catch (RuntimeException e) {
                failed(n, e.toString());
            } finally {
                n.inFlight = false;
                then.run();
            }
        }));
    }

    private void resolved(Name n, Future<List<DnsRecord>> a, Future<List<DnsRecord>> aaaa) throws RuntimeException {
        List<EndpointSpec> specs = new ArrayList<>();
        long ttl = Long.MAX_VALUE;
        String error = null;
        for (Future<List<DnsRecord>> f : List.of(a, aaaa)) {
            if (!f.isSuccess()) {
                error = f.cause() instanceof UnknownHostException u ? u.getMessage() : String.valueOf(f.cause());
                continue;
            }
            for (DnsRecord r : f.getNow()) {
                try {
                    InetAddress ip = address(n.hostPort.host(), r);
                    if (ip == null) continue;
                    ttl = Math.min(ttl, r.timeToLive());
                    EndpointSpec s = EndpointSpec.resolved(n.config.address(), new InetSocketAddress(ip, n.hostPort.port()),
                            n.config.weight(), n.config.backup(), "dns");
                    if (specs.stream().noneMatch(x -> x.address().equals(s.address()))) specs.add(s);
                } finally {
                    ReferenceCountUtil.release(r);
                }
            }
        }
        if (specs.isEmpty()) {
            failed(n, error != null ? error : "no A or AAAA record");
            return;
        }
        long now = clock.nanoTime();
        long refresh = Math.max(config.minRefresh().toNanos(), Math.min(config.maxRefresh().toNanos(), TimeUnit.SECONDS.toNanos(ttl)));
        if (n.lastError != null) log.info("dns: cluster={} name={} resolves again: {}", cluster, n.config.address(), addresses(specs));
        n.lastError = null;
        n.ttlSeconds = ttl;
        n.current = List.copyOf(specs);
        n.dueNanos = now + refresh;
    }

    private void failed(Name n, String error) {
        failures.incrementAndGet();
        boolean first = n.lastError == null;
        n.lastError = error;
        n.dueNanos = clock.nanoTime() + config.minRefresh().toNanos();
        // once per run of failures at warn: a DNS server down for an hour would otherwise fill the log
        if (first) {
            log.warn("dns: cluster={} name={} lookup failed ({}); keeping its last addresses {}", cluster,
                    n.config.address(), error, addresses(n.current));
        } else {
            log.debug("dns: cluster={} name={} lookup failed again ({})", cluster, n.config.address(), error);
        }
    }

    /** The address in an A or AAAA answer, or null for another type (a CNAME the resolver followed). */
    private static InetAddress address(String host, DnsRecord r) {
        if (!(r instanceof DnsRawRecord raw)) return null;
        if (r.type() != DnsRecordType.A && r.type() != DnsRecordType.AAAA) return null;
        ByteBuf content = raw.content();
        int len = content.readableBytes();
        if (len != 4 && len != 16) return null;
        try {
            return InetAddress.getByAddress(host, ByteBufUtil.getBytes(content, content.readerIndex(), len));
        } catch (UnknownHostException e) {
            return null;   // only for a wrong length, excluded above
        }
    }

    /** On the loop: hands the set to the cluster when it changed (nothing before start: initial() returns it). */
    private void publishIfChanged() {
        Consumer<List<EndpointSpec>> u = update;
        if (u == null || closed) return;
        List<EndpointSpec> next = union();
        if (next.equals(published)) return;
        published = next;
        u.accept(next);
    }

    private List<EndpointSpec> union() {
        List<EndpointSpec> out = new ArrayList<>(fixed);
        for (Name n : names) out.addAll(n.current);
        return List.copyOf(out);
    }

    private static List<String> addresses(List<EndpointSpec> specs) {
        return specs.stream().map(EndpointSpec::address).toList();
    }

    @Override
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", "dns");
        m.put("servers", config.servers().isEmpty() ? "system" : config.servers());
        m.put("lookups", lookups.get());
        m.put("failures", failures.get());
        Map<String, Object> byName = new LinkedHashMap<>();
        long now = clock.nanoTime();
        for (Name n : names) {
            Map<String, Object> nm = new LinkedHashMap<>();
            nm.put("addresses", addresses(n.current));
            nm.put("ttl_seconds", n.ttlSeconds);
            nm.put("next_lookup_in_ms", Math.max(0, TimeUnit.NANOSECONDS.toMillis(n.dueNanos - now)));
            if (n.lastError != null) nm.put("last_error", n.lastError);
            byName.put(n.config.address(), nm);
        }
        m.put("names", byName);
        return m;
    }

    @Override
    public void close() {
        closed = true;
        try {
            loop.execute(() -> {
                if (tick != null) tick.cancel(false);
                resolver.close();
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the discovery thread is stopping and takes its timers and channels with it
        }
    }
}
