package io.gatehouse.app.discovery;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * This instance in the registry: an ephemeral node under {@code /gatehouse/services/gatehouse-app} (Curator's
 * service-discovery recipe), created at start, removed at a clean stop, and removed by ZooKeeper itself when the
 * instance dies and its session expires. The edge's {@code discovery:} cluster source reads the same path.
 */
public final class Registration implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Registration.class);
    public static final String BASE_PATH = "/gatehouse/services";
    public static final String SERVICE = "gatehouse-app";

    private final CuratorFramework client;
    private final ServiceDiscovery<String> discovery;

    private Registration(CuratorFramework client, ServiceDiscovery<String> discovery) {
        this.client = client;
        this.discovery = discovery;
    }

    /** Connects (bounded) and registers {@code instanceId} at {@code host:port}. */
    public static Registration register(String connect, String instanceId, String host, int port, int sessionTimeoutMs) throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.builder().connectString(connect)
                .sessionTimeoutMs(sessionTimeoutMs).connectionTimeoutMs(2_000)
                .retryPolicy(new ExponentialBackoffRetry(100, 5)).build();
        client.start();
        try {
            if (!client.blockUntilConnected(5, TimeUnit.SECONDS)) throw new IllegalStateException("ZooKeeper not reachable at " + connect);
            ServiceInstance<String> me = ServiceInstance.<String>builder().name(SERVICE).id(instanceId).address(host).port(port)
                    .payload(instanceId).build();
            ServiceDiscovery<String> discovery = ServiceDiscoveryBuilder.builder(String.class).client(client).basePath(BASE_PATH)
                    .serializer(new JsonInstanceSerializer<>(String.class)).thisInstance(me).build();
            discovery.start();
            log.atInfo().addKeyValue("instance", instanceId).addKeyValue("port", port).log("registered in ZooKeeper");
            return new Registration(client, discovery);
        } catch (Exception e) {
            client.close();
            throw e;
        }
    }

    public CuratorFramework client() {
        return client;
    }

    /** The registered instances right now: id → host:port. */
    public Map<String, String> instances() throws Exception {
        Collection<ServiceInstance<String>> all = discovery.queryForInstances(SERVICE);
        Map<String, String> out = new java.util.TreeMap<>();
        for (ServiceInstance<String> i : all) out.put(i.getId(), i.getAddress() + ":" + i.getPort());
        return out;
    }

    public boolean connected() {
        return client.getZookeeperClient().isConnected();
    }

    @Override
    public void close() throws java.io.IOException {
        discovery.close(); // unregisters
        client.close();
    }
}
