package io.gatehouse.discovery;

import io.gatehouse.cluster.EndpointSpec;
import io.gatehouse.config.DiscoveryConfig;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;
import org.apache.curator.x.discovery.details.ServiceCacheListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The endpoints of a cluster found in ZooKeeper through Curator's service-discovery recipe, as the reference app
 * registers itself ({@code gatehouse-app}'s {@code Registration}: ephemeral instance nodes under
 * {@code base_path/service}, JSON with the instance's address and port and a string payload). A watched cache of
 * that path tells of every instance that registers or leaves; an instance that dies leaves when ZooKeeper expires
 * its session. While the edge itself is cut off from ZooKeeper the last known instances stay: a registry outage is
 * not an outage of the instances.
 *
 * <p>Curator's threads do the watching; the cluster is updated from a thread of this source, never from an event loop.
 */
final class ZooKeeperSource implements EndpointSource {
    private static final Logger log = LoggerFactory.getLogger(ZooKeeperSource.class);

    private final String cluster;
    private final DiscoveryConfig.ZooKeeper config;
    private final CuratorFramework client;
    private final ExecutorService events;   // one thread: cache events and cluster updates, in order
    private final CountDownLatch loaded = new CountDownLatch(1);
    private final AtomicLong changes = new AtomicLong();
    private volatile ServiceDiscovery<String> discovery;
    private volatile ServiceCache<String> cache;
    private volatile Consumer<List<EndpointSpec>> update;
    private volatile List<EndpointSpec> published;
    private volatile ConnectionState state = ConnectionState.LOST;
    private volatile boolean closed;

    ZooKeeperSource(String cluster, DiscoveryConfig.ZooKeeper config) {
        this.cluster = cluster;
        this.config = config;
        this.events = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "gatehouse-zk-" + cluster);
            t.setDaemon(true);
            return t;
        });
        this.client = CuratorFrameworkFactory.builder().connectString(config.connect())
                .sessionTimeoutMs((int) config.sessionTimeout().toMillis())
                .connectionTimeoutMs((int) config.connectionTimeout().toMillis())
                .retryPolicy(new ExponentialBackoffRetry(200, 10, 5_000))
                .build();
        client.getConnectionStateListenable().addListener((c, s) -> {
            state = s;
            if (s == ConnectionState.LOST || s == ConnectionState.SUSPENDED) {
                log.warn("zookeeper: cluster={} connection {} ({}); keeping the {} known instances", cluster,
                        s.name().toLowerCase(java.util.Locale.ROOT), config.connect(), published == null ? 0 : published.size());
            } else if (s == ConnectionState.RECONNECTED) {
                log.info("zookeeper: cluster={} reconnected to {}", cluster, config.connect());
            }
        }, events);
    }

    @Override
    public String kind() {
        return "zookeeper";
    }

    @Override
    public List<EndpointSpec> initial(List<EndpointSpec> fallback) {
        client.start();
        events.execute(this::startCache);   // waits for the connection, however long it takes
        try {
            if (!loaded.await(config.connectionTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS)) {
                List<EndpointSpec> kept = fallback.stream().filter(s -> s.source().equals("zookeeper")).toList();
                log.warn("zookeeper: cluster={} no answer from {} within {}; starting with {} endpoints known before",
                        cluster, config.connect(), config.connectionTimeout(), kept.size());
                return kept;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<EndpointSpec> now = published;
        return now == null ? List.of() : now;
    }

    /** On the events thread: connects, then watches the service's instances. */
    private void startCache() {
        try {
            while (!closed && !client.blockUntilConnected((int) config.connectionTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("zookeeper: cluster={} cannot reach {} yet; trying on", cluster, config.connect());
            }
            if (closed) return;
            ServiceDiscovery<String> d = ServiceDiscoveryBuilder.builder(String.class).client(client)
                    .basePath(config.basePath()).serializer(new JsonInstanceSerializer<>(String.class)).build();
            d.start();
            ServiceCache<String> c = d.serviceCacheBuilder().name(config.service()).build();
            c.addListener(new ServiceCacheListener() {
                @Override
                public void cacheChanged() {
                    publish();
                }

                @Override
                public void stateChanged(CuratorFramework client, ConnectionState newState) {
                    // logged by the client's own listener
                }
            }, events);
            c.start();   // loads the instances there are now
            discovery = d;
            cache = c;
            publish();
            loaded.countDown();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            if (!closed) log.error("zookeeper: cluster={} cannot watch {}/{}: {}", cluster, config.basePath(), config.service(), e.toString());
        }
    }

    /** On the events thread: the instances now, to the cluster when they changed. */
    private void publish() {
        ServiceCache<String> c = cache;
        if (c == null || closed) return;
        List<EndpointSpec> specs = new ArrayList<>();
        for (ServiceInstance<String> i : c.getInstances()) {
            if (i.getAddress() == null || i.getPort() == null) continue;
            // the recipe's address may be a name: resolved here, on this source's thread, never on an event loop
            InetSocketAddress a = new InetSocketAddress(i.getAddress(), i.getPort());
            if (a.isUnresolved()) {
                log.warn("zookeeper: cluster={} instance {} at {} does not resolve; skipped", cluster, i.getId(), i.getAddress());
                continue;
            }
            String authority = (i.getAddress().indexOf(':') >= 0 ? "[" + i.getAddress() + "]" : i.getAddress()) + ":" + i.getPort();
            EndpointSpec s = EndpointSpec.resolved(authority, a, 1, false, "zookeeper");
            if (specs.stream().noneMatch(x -> x.address().equals(s.address()))) specs.add(s);
        }
        specs.sort(java.util.Comparator.comparing(EndpointSpec::address));
        List<EndpointSpec> next = List.copyOf(specs);
        if (next.equals(published)) return;
        published = next;
        changes.incrementAndGet();
        log.info("zookeeper: cluster={} instances of {}: {}", cluster, config.service(),
                next.stream().map(EndpointSpec::address).toList());
        Consumer<List<EndpointSpec>> u = update;
        if (u != null) u.accept(next);
    }

    @Override
    public void start(Consumer<List<EndpointSpec>> update) {
        this.update = update;
        events.execute(() -> {
            // anything that arrived between initial() and now
            List<EndpointSpec> now = published;
            if (now != null && !closed) update.accept(now);
        });
    }

    @Override
    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", "zookeeper");
        m.put("connect", config.connect());
        m.put("path", config.basePath() + "/" + config.service());
        m.put("connection", state.name().toLowerCase(java.util.Locale.ROOT));
        m.put("changes", changes.get());
        return m;
    }

    @Override
    public void close() {
        closed = true;
        events.execute(() -> {
            try {
                if (cache != null) cache.close();
                if (discovery != null) discovery.close();
            } catch (Exception e) {
                log.debug("zookeeper: cluster={} closing the cache: {}", cluster, e.toString());
            }
            client.close();
        });
        events.shutdown();
    }
}
