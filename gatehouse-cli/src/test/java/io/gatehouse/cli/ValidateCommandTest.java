package io.gatehouse.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ValidateCommandTest {
    private static final String GOOD = """
            listeners:
              - name: edge
                address: 127.0.0.1:8080
                routes:
                  - name: api
                    match: { path_prefix: /api }
                    cluster: api
                  - name: web
                    cluster: api
            clusters:
              - name: api
                endpoints:
                  - address: 127.0.0.1:9001
                  - address: 127.0.0.1:9002
                load_balancer: { policy: least_request }
                health_check: { path: /health, interval: 2s, timeout: 500ms }
            """;

    private static final String BAD = """
            clusters:
              - name: api
                endpoints:
                  - address: 127.0.0.1:9001
                load_balancer: { policy: fastest }
            """;

    @TempDir
    Path dir;

    @Test
    void printsOkWithCountsAndExitsZeroForAGoodFile() throws IOException {
        Path good = write("good.yaml", GOOD);

        CommandRun run = CommandRun.of("validate", good.toString());

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).isEqualTo(good + ": ok (1 listener, 2 routes, 1 cluster)" + System.lineSeparator());
        assertThat(run.err()).isEmpty();
    }

    // Every problem names file:line:col and the key path (the loader's full error catalogue is tested in
    // gatehouse-server); here, that the command passes it through.
    @Test
    void printsTheProblemWithTheFileNameAndExitsOneForABadFile() throws IOException {
        Path bad = write("bad.yaml", BAD);

        CommandRun run = CommandRun.of("validate", bad.toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).startsWith(bad + ":")
                .contains(bad + ":5:30: clusters[0].load_balancer.policy: 'fastest' is not one of round_robin, random")
                .contains(bad + ":1:1: listeners: nothing to serve");
        assertThat(run.out()).isEmpty();
    }

    @Test
    void checksEveryFileAndExitsOneWhenAnyIsBad() throws IOException {
        Path good = write("good.yaml", GOOD);
        Path bad = write("bad.yaml", BAD);

        CommandRun run = CommandRun.of("validate", bad.toString(), good.toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).contains(good + ": ok");
        assertThat(run.err()).contains(bad.toString()).doesNotContain(good.toString());
    }

    @Test
    void reportsAMissingFileAsAProblem() {
        Path missing = dir.resolve("missing.yaml");

        CommandRun run = CommandRun.of("validate", missing.toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).startsWith(missing + ":");
    }

    @Test
    void needsAtLeastOneFile() {
        CommandRun run = CommandRun.of("validate");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("FILE");
    }

    private Path write(String name, String yaml) throws IOException {
        return Files.writeString(dir.resolve(name), yaml);
    }
}
