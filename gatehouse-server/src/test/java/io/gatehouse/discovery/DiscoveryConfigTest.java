package io.gatehouse.discovery;

import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigException.ConfigProblem;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.DiscoveryConfig;
import io.gatehouse.config.GatehouseConfig;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The {@code dns} and {@code discovery} keys of a cluster: defaults, and errors that name file, line and key. */
class DiscoveryConfigTest {

    private static String yaml(String clusters) {
        return """
                listeners:
                  - name: web
                    address: 127.0.0.1:0
                    routes:
                      - name: all
                        match: { path_prefix: / }
                        cluster: app
                clusters:
                """ + clusters;
    }

    private static List<String> problems(String clusters) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml(clusters), "edge.yaml"));
        assertThat(e).as("the config is refused").isNotNull();
        return e.problems().stream().map(ConfigProblem::toString).toList();
    }

    @Test
    void discoveryAndDnsBindWithTheirDefaults() throws Exception {
        GatehouseConfig c = ConfigLoader.parse(yaml("""
                  - name: app
                    discovery:
                      zookeeper: { connect: "127.0.0.1:2181", service: gatehouse-app }
                  - name: k8s
                    discovery:
                      kubernetes: { service: web }
                  - name: dns
                    endpoints: [api.internal:8080]
                    dns: { servers: [10.0.0.2, "[2001:db8::53]:5353"], min_refresh: 5s }
                """), "edge.yaml");
        DiscoveryConfig.ZooKeeper zk = c.cluster("app").discovery().zookeeper();
        assertThat(zk.basePath()).isEqualTo("/gatehouse/services");
        assertThat(zk.sessionTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.cluster("app").endpoints()).isEmpty();
        assertThat(c.cluster("k8s").discovery().kind()).isEqualTo("kubernetes");
        assertThat(c.cluster("k8s").discovery().kubernetes().timeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.cluster("dns").dns().serverAddresses()).containsExactly(new InetSocketAddress("10.0.0.2", 53),
                new InetSocketAddress("2001:db8::53", 5353));
        assertThat(c.cluster("dns").dns().maxRefresh()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.cluster("app").dns().servers()).isEmpty();
    }

    @Test
    void badDiscoveryAndDnsSettingsAreRefusedAtTheirKey() {
        assertThat(problems("""
                  - name: app
                    discovery:
                      zookeeper: { connect: "127.0.0.1:2181" }
                """)).containsExactly("edge.yaml:11:18: clusters[0].discovery.zookeeper.service: is required");
        assertThat(problems("""
                  - name: app
                    discovery: { zookeeper: { connect: "127.0.0.1:2181", service: a }, kubernetes: { service: b } }
                """)).containsExactly("edge.yaml:10:16: clusters[0].discovery: needs exactly one of zookeeper, kubernetes");
        assertThat(problems("""
                  - name: app
                    endpoints: [10.0.0.1:80]
                    discovery: { kubernetes: { service: web } }
                """)).containsExactly("edge.yaml:11:5: clusters[0].discovery: a cluster takes its endpoints either from "
                + "the file or from discovery, not both");
        assertThat(problems("""
                  - name: app
                    endpoints: [api.internal:80]
                    dns: { servers: [dns.internal], max_refresh: 500ms }
                """)).containsExactly("edge.yaml:11:12: clusters[0].dns.servers: 'dns.internal' is not an IP address "
                + "(a DNS server cannot be a name)");
        assertThat(problems("""
                  - name: app
                    endpoints: [api.internal:80]
                    dns: { max_refresh: 500ms }
                """)).containsExactly("edge.yaml:11:12: clusters[0].dns.max_refresh: must be >= min_refresh (PT1S)");
        assertThat(problems("""
                  - name: app
                    discovery: { kubernetes: { service: web, api_server: "10.96.0.1:443" } }
                """)).containsExactly("edge.yaml:10:46: clusters[0].discovery.kubernetes.api_server: must be an http:// or https:// URL");
    }
}
