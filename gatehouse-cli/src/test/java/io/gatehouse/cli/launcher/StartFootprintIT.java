package io.gatehouse.cli.launcher;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What {@code ./gatehouse run} loads at start with the benchmark's kind of config (one listener, one route, one
 * cluster, the admin API): the base RSS goal (issue 16, ≤ 96 MiB) has no room for class metadata of features that
 * are not configured, nor for the XML machinery a logback.xml would need (bench/results/2026-12-06-base-rss.md).
 * Class loading at start is deterministic, so this guards the footprint without an RSS threshold.
 */
class StartFootprintIT {
    @TempDir
    static Path dir;

    private static LaunchedGatehouse gatehouse;
    private static List<String> loaded;

    @BeforeAll
    static void launch() throws Exception {
        Path file = Files.writeString(dir.resolve("gatehouse.yaml"), """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [ { name: all, cluster: origin } ]
                clusters:
                  - name: origin
                    endpoints: ["127.0.0.1:9"]
                admin: { address: "127.0.0.1:0" }
                """);
        Path classes = dir.resolve("classes.txt");
        gatehouse = LaunchedGatehouse.start(dir,
                Map.of("GATEHOUSE_JAVA_OPTS", "-Xlog:class+load=info:file=" + classes), "run", file.toString());
        gatehouse.awaitLine(Pattern.compile("(gatehouse started)"));
        loaded = Files.readAllLines(classes).stream()
                .filter(line -> line.contains("[class,load]"))
                .map(line -> line.replaceFirst(".*\\[class,load\\] (\\S+).*", "$1"))
                .toList();
    }

    @AfterAll
    static void stop() throws Exception {
        if (gatehouse != null) gatehouse.close();
    }

    @Test
    void theLogIsReadAndTheServerStarted() {
        // the guard means nothing if the log was empty or the server was not up
        assertThat(loaded).contains("io.gatehouse.Gatehouse", "io.gatehouse.cli.TextLogging");
        assertThat(gatehouse.isAlive()).isTrue();
    }

    @Test
    void defaultLoggingIsSetUpWithoutXml() {
        // Joran's configurators, actions and model, and the JDK's XML parser (JoranException alone is loaded: a
        // catch clause of the json log format's set-up names it)
        assertThat(loadedUnder("ch.qos.logback.classic.joran.", "ch.qos.logback.core.joran.action.",
                "ch.qos.logback.core.model.", "ch.qos.logback.classic.model.", "com.sun.org.apache.xerces.")).isEmpty();
    }

    @Test
    void unconfiguredFeaturesLoadNothing() {
        List<String> unconfigured = List.of(
                "io.gatehouse.cache.", "io.gatehouse.auth.", "io.gatehouse.ratelimit.", "io.gatehouse.files.",
                "io.gatehouse.redis.", "io.gatehouse.metering.", "io.gatehouse.buffering.", "io.gatehouse.cors.",
                "com.github.benmanes.caffeine.", "com.nimbusds.", "io.lettuce.", "io.github.bucket4j.",
                "io.fabric8.", "org.apache.curator.", "org.apache.zookeeper.", "com.amazon.corretto.",
                "io.helidon.", "org.postgresql.");
        assertThat(loadedUnder(unconfigured.toArray(String[]::new))).isEmpty();
    }

    private static List<String> loadedUnder(String... prefixes) {
        return loaded.stream().filter(c -> List.of(prefixes).stream().anyMatch(c::startsWith)).toList();
    }
}
