package io.gatehouse.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class RunCommandTest {
    @TempDir
    Path dir;

    @Test
    void printsEveryProblemAndExitsTwoWhenTheFileIsBad() throws IOException {
        Path bad = Files.writeString(dir.resolve("bad.yaml"), """
                clusters:
                  - name: api
                    endpoints: []
                """);

        CommandRun run = CommandRun.of("run", bad.toString());

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).startsWith(bad + ":").contains("endpoints");
    }
}
