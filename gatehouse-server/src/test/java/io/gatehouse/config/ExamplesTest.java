package io.gatehouse.config;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

/** Every shipped example must load as it is, so the examples never rot. */
class ExamplesTest {

    private static List<Path> examples() throws IOException {
        // Surefire runs in the module directory; the examples live at the repository root.
        Path dir = Path.of("..", "examples").toAbsolutePath().normalize();
        assertThat(dir).as("examples folder").isDirectory();
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    @Test
    void everyExampleLoadsWithoutProblems() throws IOException {
        List<Path> examples = examples();
        assertThat(examples).as("examples/*.yaml").isNotEmpty();
        for (Path example : examples) {
            // An empty environment: examples must work with their ${VAR:-default} defaults alone.
            assertThatCode(() -> ConfigLoader.load(example, name -> null)).as(example.toString()).doesNotThrowAnyException();
        }
    }

    @Test
    void examplesExerciseTheFeaturesTheyAdvertise() throws Exception {
        Path dir = Path.of("..", "examples");
        GatehouseConfig sticky = ConfigLoader.load(dir.resolve("sticky-ring-hash.yaml"), name -> null);
        assertThat(sticky.cluster("profile-cache").loadBalancer().boundedLoad()).isEqualTo(1.25);
        GatehouseConfig resilient = ConfigLoader.load(dir.resolve("resilient-backend.yaml"), name -> null);
        assertThat(resilient.cluster("orders").healthCheck().expects(204)).isTrue();
        assertThat(resilient.listeners().get(0).limits().maxBodySize()).isEqualTo(10L << 20);
        GatehouseConfig tls = ConfigLoader.load(dir.resolve("tls.yaml"), name -> null);
        assertThat(tls.listeners().get(1).tls().certificates()).hasSize(2);
        assertThat(tls.listeners().get(1).routes().get(0).match().clientCert().san()).isEqualTo("spiffe://example.org/billing");
        assertThat(tls.cluster("billing").tls().verifyHostname()).isTrue();
        GatehouseConfig grpc = ConfigLoader.load(dir.resolve("grpc.yaml"), name -> null);
        assertThat(grpc.listeners().get(0).http2().h2c()).isTrue();
        assertThat(grpc.cluster("greeter").protocol()).isEqualTo(io.gatehouse.config.ClusterProtocol.H2C);
        assertThat(grpc.cluster("greeter").http2().maxConcurrentStreams()).isEqualTo(100);
        assertThat(grpc.cluster("greeter").http2().pingInterval()).isEqualTo(java.time.Duration.ofSeconds(30));
        assertThat(grpc.cluster("greeter").http2().pingTimeout()).isEqualTo(java.time.Duration.ofSeconds(5));
        GatehouseConfig deny = ConfigLoader.load(dir.resolve("gateway-deny.yaml"), name -> null);
        assertThat(deny.listeners().get(0).filters().get(0).type()).isEqualTo("deny");
        assertThat(deny.consumers()).extracting(ConsumerConfig::name).containsExactly("partner-acme", "partner-globex");
        assertThat(deny.redis().address()).isEqualTo("127.0.0.1:6379");
    }
}
