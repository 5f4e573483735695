package io.gatehouse.discovery;

import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.gatehouse.cluster.EndpointSpec;
import io.gatehouse.config.DiscoveryConfig;
import io.netty.util.NetUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The endpoints of a Kubernetes Service, from its EndpointSlices (those labelled
 * {@code kubernetes.io/service-name=<service>}), kept current by a fabric8 informer (list, then watch, relisting
 * after a broken watch). An endpoint counts while its {@code ready} condition is not false (unknown counts as
 * ready, as kube-proxy does); its IPv4/IPv6 addresses with the chosen port become endpoints. FQDN slices are skipped.
 * While the API server is unreachable the last known endpoints stay.
 */
final class KubernetesSource implements EndpointSource {
    private static final Logger log = LoggerFactory.getLogger(KubernetesSource.class);
    static final String SERVICE_LABEL = "kubernetes.io/service-name";

    private final String cluster;
    private final DiscoveryConfig.Kubernetes config;
    private final KubernetesClient client;
    private final String namespace;
    private final ExecutorService events;   // one thread: cluster updates in order, off the informer's threads
    private final AtomicLong changes = new AtomicLong();
    private volatile SharedIndexInformer<EndpointSlice> informer;
    private volatile Consumer<List<EndpointSpec>> update;
    private volatile List<EndpointSpec> published;
    private volatile boolean closed;

    KubernetesSource(String cluster, DiscoveryConfig.Kubernetes config) {
        this.cluster = cluster;
        this.config = config;
        Config base = config.apiServer() == null ? Config.autoConfigure(null)
                : new ConfigBuilder().withMasterUrl(config.apiServer()).build();
        int timeout = (int) config.timeout().toMillis();
        base.setConnectionTimeout(timeout);
        base.setRequestTimeout(timeout);
        this.namespace = config.namespace() != null ? config.namespace()
                : base.getNamespace() != null ? base.getNamespace() : "default";
        this.client = new KubernetesClientBuilder().withConfig(base).build();
        this.events = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "gatehouse-k8s-" + cluster);
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public String kind() {
        return "kubernetes";
    }

    @Override
    public List<EndpointSpec> initial(List<EndpointSpec> fallback) {
        SharedIndexInformer<EndpointSlice> inf = client.discovery().v1().endpointSlices().inNamespace(namespace)
                .withLabel(SERVICE_LABEL, config.service()).runnableInformer(0);
        inf.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(EndpointSlice slice) {
                events.execute(KubernetesSource.this::publish);
            }

            @Override
            public void onUpdate(EndpointSlice before, EndpointSlice after) {
                events.execute(KubernetesSource.this::publish);
            }

            @Override
            public void onDelete(EndpointSlice slice, boolean finalStateUnknown) {
                events.execute(KubernetesSource.this::publish);
            }
        });
        informer = inf;
        try {
            // the informer keeps retrying with backoff on its own if the API server is not there yet
            inf.start().toCompletableFuture().get(config.timeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            List<EndpointSpec> kept = fallback.stream().filter(s -> s.source().equals("kubernetes")).toList();
            log.warn("kubernetes: cluster={} no list of service {}/{} within {} ({}); starting with {} endpoints known before",
                    cluster, namespace, config.service(), config.timeout(), e.toString(), kept.size());
            return kept;
        }
        List<EndpointSpec> now = current();
        published = now;
        return now;
    }

    /** The ready endpoints in the informer's store now. */
    private List<EndpointSpec> current() {
        List<EndpointSpec> specs = new ArrayList<>();
        for (EndpointSlice slice : informer.getStore().list()) {
            String type = slice.getAddressType();
            if (type != null && !type.equals("IPv4") && !type.equals("IPv6")) continue;   // FQDN: not supported
            Integer port = port(slice);
            if (port == null || slice.getEndpoints() == null) continue;
            for (Endpoint e : slice.getEndpoints()) {
                if (e.getConditions() != null && Boolean.FALSE.equals(e.getConditions().getReady())) continue;
                if (e.getAddresses() == null) continue;
                for (String ip : e.getAddresses()) {
                    if (!NetUtil.isValidIpV4Address(ip) && !NetUtil.isValidIpV6Address(ip)) continue;
                    InetSocketAddress a = new InetSocketAddress(NetUtil.createInetAddressFromIpAddressString(ip), port);
                    EndpointSpec s = EndpointSpec.resolved(io.gatehouse.config.HostPort.format(a), a, 1, false, "kubernetes");
                    if (specs.stream().noneMatch(x -> x.address().equals(s.address()))) specs.add(s);
                }
            }
        }
        specs.sort(java.util.Comparator.comparing(EndpointSpec::address));
        return List.copyOf(specs);
    }

    /** The slice's port named {@code port}, or its first; null when it has none. */
    private Integer port(EndpointSlice slice) {
        if (slice.getPorts() == null) return null;
        for (EndpointPort p : slice.getPorts()) {
            if (p.getPort() == null) continue;
            if (config.port() == null || config.port().equals(p.getName())) return p.getPort();
        }
        return null;
    }

    /** On the events thread: the endpoints now, to the cluster when they changed. */
    private void publish() {
        if (closed || informer == null) return;
        List<EndpointSpec> next = current();
        if (next.equals(published)) return;
        published = next;
        changes.incrementAndGet();
        log.info("kubernetes: cluster={} service {}/{}: {}", cluster, namespace, config.service(),
                next.stream().map(EndpointSpec::address).toList());
        Consumer<List<EndpointSpec>> u = update;
        if (u != null) u.accept(next);
    }

    @Override
    public void start(Consumer<List<EndpointSpec>> update) {
        this.update = update;
        events.execute(this::publish);   // anything that arrived between initial() and now
    }

    @Override
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", "kubernetes");
        m.put("service", namespace + "/" + config.service());
        m.put("api_server", client.getMasterUrl().toString());
        SharedIndexInformer<EndpointSlice> inf = informer;
        m.put("watching", inf != null && inf.isWatching());
        m.put("changes", changes.get());
        return m;
    }

    @Override
    public void close() {
        closed = true;
        SharedIndexInformer<EndpointSlice> inf = informer;
        if (inf != null) inf.close();
        client.close();
        events.shutdown();
    }
}
