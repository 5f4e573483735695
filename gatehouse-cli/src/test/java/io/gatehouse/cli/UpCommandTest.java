package io.gatehouse.cli;

import io.gatehouse.cli.demo.DemoStack;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class UpCommandTest {
    @Test
    void printsTheBundledConfigurationWithoutStartingAnything() {
        CommandRun run = CommandRun.of("up", "--print-config");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).isEqualTo(DemoStack.bundledYaml()).contains("name: edge", "name: demo", "/health");
    }

    @Test
    void rejectsAListenAddressWithoutPortAsAUsageError() {
        CommandRun run = CommandRun.of("up", "--listen", "localhost");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--listen: missing port in 'localhost'; expected host:port");
    }

    @Test
    void rejectsAnAppPortOutOfRangeAsAUsageErrorBeforeStartingAnything() {
        CommandRun run = CommandRun.of("up", "--app-ports", "9001,70000");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--app-ports: 70000 is not a port (0-65535)");
    }

    @Test
    void appProcessesWithATraceFileIsAUsageErrorBeforeStartingAnything() {
        CommandRun run = CommandRun.of("up", "--app-processes", "--trace-file", "spans.jsonl");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--app-processes: not with --trace-file");
    }

    @Test
    void versionCommandAndOptionPrintTheBuildVersion() {
        CommandRun command = CommandRun.of("version");
        CommandRun option = CommandRun.of("--version");

        assertThat(command.exitCode()).isZero();
        assertThat(command.out()).startsWith("gatehouse 0.").doesNotContain("${").contains("Java " + Runtime.version().feature());
        assertThat(option.out()).isEqualTo(command.out());
    }
}
