package io.gatehouse.config;

import io.gatehouse.config.ClusterConfig.EndpointConfig;
import io.gatehouse.config.ConfigException.ConfigProblem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ConfigLoaderTest {

    private static final String MINIMAL_CLUSTER = """
            clusters:
              - name: app
                endpoints: [127.0.0.1:9001]
            """;

    private static ConfigException failure(String yaml) {
        return catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml, "gatehouse.yaml", k -> null));
    }

    @Test
    void aTooLargeWeightIsReportedAtItsKeyWithTheFullPath() {
        ConfigException e = failure("""
                listeners:
                  - name: public
                    address: 127.0.0.1:0
                    routes: [{name: all, cluster: app}]
                clusters:
                  - name: app
                    endpoints:
                      - 10.0.0.1:80
                      - address: 10.0.0.2:80
                        weight: 5000
                """);
        assertThat(e.problems()).containsExactly(
                new ConfigProblem("gatehouse.yaml", 10, 9, "clusters[0].endpoints[1].weight", "must be 1..1000"));
        assertThat(e.getMessage()).isEqualTo("gatehouse.yaml:10:9: clusters[0].endpoints[1].weight: must be 1..1000");
    }

    @Test
    void everyUnknownKeyAndEveryDanglingReferenceIsReportedInOneGo() {
        ConfigException e = failure("""
                listeners:
                  - name: public
                    address: 127.0.0.1:0
                    routes:
                      - name: a
                        cluster: ap
                      - name: b
                        cluster: app
                        retires: {attempts: 1}
                      - name: c
                        cluster: ppa
                clusters:
                  - name: app
                    endpoints: [127.0.0.1:9001]
                    helth_check: {}
                """);
        assertThat(e.problems()).extracting(ConfigProblem::toString).containsExactly(
                "gatehouse.yaml:6:18: listeners[0].routes[0].cluster: unknown cluster 'ap'; did you mean 'app'?",
                "gatehouse.yaml:9:9: listeners[0].routes[1].retires: unknown key 'retires'; did you mean 'retries'?",
                "gatehouse.yaml:11:18: listeners[0].routes[2].cluster: unknown cluster 'ppa'; did you mean 'app'?",
                "gatehouse.yaml:15:5: clusters[0].helth_check: unknown key 'helth_check'; did you mean 'health_check'?");
    }

    @Test
    void parsesDurationsSizesAndShorthandEndpoints() throws Exception {
        GatehouseConfig config = ConfigLoader.parse("""
                listeners:
                  - name: public
                    address: "[::1]:0"
                    limits:
                      max_body_size: 10MiB
                      max_header_size: 64KiB
                    timeouts:
                      request_header: 1m30s
                      idle: 0
                    routes:
                      - name: upload
                        cluster: app
                        max_body_size: 1GB
                        timeouts: {total: 250ms, per_try: 1.5s}
                clusters:
                  - name: app
                    endpoints:
                      - 10.0.0.1:8080
                      - "[2001:db8::1]:443"
                      - {address: backend.internal:80, weight: 3, backup: true}
                    outlier_detection:
                      consecutive_5xx: 7
                    load_balancer:
                      policy: ring_hash
                      bounded_load: 1.25
                      hash: {header: x-user}
                      sticky_cookie: {ttl: 7d}
                """, "gatehouse.yaml", k -> null);
        ListenerConfig listener = config.listeners().get(0);
        assertThat(listener.limits().maxBodySize()).isEqualTo(10L * 1024 * 1024);
        assertThat(listener.limits().maxHeaderSize()).isEqualTo(65536);
        assertThat(listener.timeouts().requestHeader()).isEqualTo(Duration.ofSeconds(90));
        assertThat(listener.timeouts().idle()).isEqualTo(Duration.ZERO);
        RouteConfig route = listener.routes().get(0);
        assertThat(route.maxBodySize()).isEqualTo(1_000_000_000L);
        assertThat(route.timeouts().total()).isEqualTo(Duration.ofMillis(250));
        assertThat(route.timeouts().perTry()).isEqualTo(Duration.ofMillis(1500));
        ClusterConfig app = config.cluster("app");
        assertThat(app.endpoints()).containsExactly(
                EndpointConfig.of("10.0.0.1:8080"),
                EndpointConfig.of("[2001:db8::1]:443"),
                new EndpointConfig("backend.internal:80", 3, true));
        assertThat(app.outlierDetection().consecutive5xx()).isEqualTo(7);
        assertThat(app.loadBalancer().boundedLoad()).isEqualTo(1.25);
        assertThat(app.loadBalancer().hash().header()).isEqualTo("x-user");
        assertThat(app.loadBalancer().stickyCookie().ttl()).isEqualTo(Duration.ofDays(7));
        assertThat(app.loadBalancer().stickyCookie().name()).isEqualTo("GATEHOUSE_STICKY");
    }

    @Test
    void substitutesEnvironmentVariablesWithDefaultsAndEscapes() throws Exception {
        Map<String, String> env = Map.of("PORT", "8443", "BACKEND", "10.1.2.3", "EMPTY", "");
        GatehouseConfig config = ConfigLoader.parse("""
                listeners:
                  - name: public
                    address: 127.0.0.1:${PORT}
                    routes:
                      - name: price
                        direct_response: {status: 200, body: "costs $${PRICE}"}
                clusters:
                  - name: app
                    endpoints:
                      - ${BACKEND}:${BACKEND_PORT:-9001}
                      - address: ${EMPTY:-127.0.0.1}:9002
                        weight: ${WEIGHT:-5}
                admin:
                  address: ${ADMIN_ADDRESS:-off}
                """, "gatehouse.yaml", env::get);
        assertThat(config.listeners().get(0).address()).isEqualTo("127.0.0.1:8443");
        assertThat(config.listeners().get(0).routes().get(0).directResponse().body()).isEqualTo("costs ${PRICE}");
        assertThat(config.cluster("app").endpoints()).containsExactly(
                EndpointConfig.of("10.1.2.3:9001"), new EndpointConfig("127.0.0.1:9002", 5, false));
        assertThat(config.admin().enabled()).isFalse();
    }

    @Test
    void aMissingEnvironmentVariableNamesTheKey() {
        ConfigException e = failure("""
                listeners:
                  - name: public
                    address: 127.0.0.1:0
                    routes: [{name: all, cluster: app}]
                clusters:
                  - name: app
                    endpoints: [127.0.0.1:9001]
                admin:
                  token: ${ADMIN_TOKEN}
                """);
        assertThat(e.getMessage()).isEqualTo("gatehouse.yaml:9:10: admin.token: environment variable ADMIN_TOKEN is not set"
                + " and has no default (write ${ADMIN_TOKEN:-default})");
    }

    @Test
    void offStaysAStringAndIsNotReadAsYaml11False() throws Exception {
        GatehouseConfig config = ConfigLoader.parse("""
                listeners:
                  - name: public
                    address: 127.0.0.1:0
                    routes: [{name: all, cluster: app}]
                admin:
                  address: off
                """ + MINIMAL_CLUSTER, "gatehouse.yaml", k -> null);
        assertThat(config.admin().enabled()).isFalse();
    }

    @Test
    void anchorsAliasesAndMergeKeysShareSettings() throws Exception {
        GatehouseConfig config = ConfigLoader.parse("""
                listeners:
                  - name: public
                    address: 127.0.0.1:0
                    routes: [{name: all, cluster: a}]
                clusters:
                  - name: a
                    endpoints: [127.0.0.1:9001]
                    timeouts: &fast {connect: 250ms, response_header: 2s}
                  - name: b
                    endpoints: [127.0.0.1:9002]
                    timeouts:
                      <<: *fast
                      connect: 1s
                  - name: c
                    endpoints: [127.0.0.1:9003]
                    timeouts: *fast
                """, "gatehouse.yaml", k -> null);
        assertThat(config.cluster("b").timeouts().connect()).isEqualTo(Duration.ofSeconds(1));
        assertThat(config.cluster("b").timeouts().responseHeader()).isEqualTo(Duration.ofSeconds(2));
        assertThat(config.cluster("c").timeouts().connect()).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void duplicateKeysAreReported() {
        ConfigException e = failure("""
                listeners:
                  - name: public
                    name: private
                    address: 127.0.0.1:0
                    routes: [{name: all, cluster: app}]
                """ + MINIMAL_CLUSTER);
        assertThat(e.getMessage()).isEqualTo("gatehouse.yaml:3:5: listeners[0].name: duplicate key 'name' (first at line 2)");
    }

    @Test
    void loadReadsAFileAndNamesItInProblems(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("gatehouse.yaml");
        Files.writeString(file, "clusters: []\n");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file, k -> null));
        assertThat(e.getMessage()).isEqualTo(file + ":1:1: listeners: nothing to serve: define at least one listener");

        ConfigException missing = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(dir.resolve("nope.yaml")));
        assertThat(missing.problems()).singleElement().satisfies(p -> assertThat(p.message()).startsWith("cannot read"));
    }

    @Test
    void yamlKeysAreSnakeCaseWithDigitsStartingAWord() {
        assertThat(RecordBinder.keyOf("consecutive5xx")).isEqualTo("consecutive_5xx");
        assertThat(RecordBinder.keyOf("maxIdlePerEndpoint")).isEqualTo("max_idle_per_endpoint");
        assertThat(RecordBinder.keys(ClusterConfig.class)).containsKey("when_all_unhealthy");
        assertThat(RecordBinder.keys(ClusterConfig.OutlierDetectionConfig.class))
                .containsOnlyKeys("consecutive_5xx", "consecutive_gateway_failures", "base_ejection_time",
                        "max_ejection_time", "max_ejection_percent", "panic_threshold");
    }
}
