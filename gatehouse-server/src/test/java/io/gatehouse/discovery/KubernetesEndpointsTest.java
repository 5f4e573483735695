package io.gatehouse.discovery;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.gatehouse.Gatehouse;
import io.gatehouse.cluster.Cluster;
import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ConfigLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A cluster that follows a Kubernetes Service's EndpointSlices, against fabric8's mock API server in CRUD mode (real
 * HTTP list and watch): ready endpoints with the named port take traffic, a not-ready one does not until it is, and
 * slices of other services are not looked at. Backends listen on 127.0.0.1 and 127.0.0.2 at one port, like pods.
 */
class KubernetesEndpointsTest {
    private static KubernetesMockServer api;
    private static KubernetesClient kubectl;
    private static final List<HttpServer> backends = new ArrayList<>();
    private static int port;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void startEngines() throws IOException {
        api = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        api.init(InetAddress.getLoopbackAddress(), 0);
        kubectl = api.createClient();
        port = backend("pod-a", new InetSocketAddress("127.0.0.1", 0));
        backend("pod-b", new InetSocketAddress("127.0.0.2", port));
    }

    @AfterAll
    static void stopEngines() {
        backends.forEach(s -> s.stop(0));
        kubectl.close();
        api.destroy();
    }

    private static int backend(String name, InetSocketAddress at) throws IOException {
        HttpServer s = HttpServer.create(at, 50);
        s.createContext("/", exchange -> {
            byte[] body = name.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        s.start();
        backends.add(s);
        return s.getAddress().getPort();
    }

    private static EndpointSlice slice(String name, String service, boolean bReady) {
        return new EndpointSliceBuilder()
                .withNewMetadata().withName(name).withNamespace("shop").addToLabels(KubernetesSource.SERVICE_LABEL, service).endMetadata()
                .withAddressType("IPv4")
                .addNewPort().withName("metrics").withPort(9).withProtocol("TCP").endPort()
                .addNewPort().withName("http").withPort(port).withProtocol("TCP").endPort()
                .addNewEndpoint().withAddresses("127.0.0.1").withNewConditions().withReady(true).endConditions().endEndpoint()
                .addNewEndpoint().withAddresses("127.0.0.2").withNewConditions().withReady(bReady).endConditions().endEndpoint()
                .build();
    }

    private String get(Gatehouse g) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + g.listenerAddress("web").getPort() + "/")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("status: %s", r.body()).isEqualTo(200);
        return r.body();
    }

    private static List<String> addresses(Cluster c) {
        return c.endpoints().stream().map(Endpoint::address).sorted().toList();
    }

    @Test
    void readyEndpointsOfTheServicesSlicesTakeTrafficAndFollowItsChanges() throws Exception {
        kubectl.resource(slice("web-1", "web", false)).create();
        kubectl.resource(slice("other-1", "other", true)).create();   // another Service: ignored
        String yaml = """
                listeners:
                  - name: web
                    address: 127.0.0.1:0
                    routes:
                      - name: all
                        match: { path_prefix: / }
                        cluster: web
                clusters:
                  - name: web
                    discovery:
                      kubernetes: { service: web, namespace: shop, port: http, api_server: "%s", timeout: 5s }
                admin: { address: "off" }
                """.formatted(api.url("/"));
        Gatehouse g = Gatehouse.start(ConfigLoader.parse(yaml, "k8s-test.yaml"));
        try {
            Cluster web = g.cluster("web");
            assertThat(addresses(web)).as("only the ready endpoint, on the http port").containsExactly("127.0.0.1:" + port);
            assertThat(web.endpoints().get(0).source()).isEqualTo("kubernetes");
            assertThat(get(g)).isEqualTo("pod-a");

            kubectl.resource(slice("web-1", "web", true)).update();   // pod-b turns ready
            await().atMost(Duration.ofSeconds(10)).until(() -> web.endpoints().size() == 2);
            assertThat(g.cluster("web")).as("no reload").isSameAs(web);
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < 6; i++) seen.add(get(g));
            assertThat(seen).containsExactlyInAnyOrder("pod-a", "pod-b");

            kubectl.resource(slice("web-1", "web", true)).delete();   // the Service has no endpoints any more
            await().atMost(Duration.ofSeconds(10)).until(() -> web.endpoints().isEmpty());
            assertThat(web.availableCount()).isZero();
        } finally {
            g.shutdown(Duration.ofSeconds(1));
        }
    }
}
