package io.gatehouse.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@link Main} as a child process under a parent's control channel ({@code GATEHOUSE_CONTROL=stdin}, as
 * {@code gatehouse up --app-processes} runs it): a {@code repoint} line is obeyed, and when the parent's end of the
 * pipe closes (as it does when the parent dies, even by SIGKILL) the instance stops cleanly instead of staying
 * behind as an orphan.
 */
@ExtendWith(Engines.class)
class MainProcessTest {
    @TempDir
    Path dir;

    @Test
    void obeysRepointAndStopsCleanlyWhenItsParentsPipeCloses() throws Exception {
        Path log = dir.resolve("app.log");
        String java = ProcessHandle.current().info().command().orElseThrow();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx96m", "-cp", System.getProperty("java.class.path"), Main.class.getName())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("GATEHOUSE_DB_URL", Engines.postgres().primaryJdbcUrl());
        pb.environment().put("GATEHOUSE_DB_REPLICA_URLS", Engines.postgres().replicaJdbcUrl());
        pb.environment().put("GATEHOUSE_REDIS_URL", Engines.redis().uri());
        pb.environment().put("GATEHOUSE_APP_PORT", "0");
        pb.environment().put("GATEHOUSE_INSTANCE", "child-1");
        pb.environment().put("GATEHOUSE_CONTROL", "stdin");
        Process child = pb.start();
        try {
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(() -> {
                assertThat(child.isAlive()).as("the child died: %s", Files.readString(log)).isTrue();
                return Files.readString(log).contains("app listening on");
            });
            Matcher port = Pattern.compile("app listening on http://127\\.0\\.0\\.1:(\\d+)").matcher(Files.readString(log));
            assertThat(port.find()).isTrue();
            Http http = new Http(Integer.parseInt(port.group(1)));
            assertThat(http.get("/live").statusCode()).isEqualTo(200);

            OutputStream control = child.getOutputStream();
            // The same primary: what matters is that the command reaches the instance and it confirms.
            control.write(("repoint " + Engines.postgres().primaryJdbcUrl() + "\n").getBytes(StandardCharsets.UTF_8));
            control.flush();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(() -> Files.readString(log).contains("repointed writes to " + Engines.postgres().primaryJdbcUrl()));
            assertThat(http.send("POST", "/api/links", "child-owner", "{\"target\":\"https://example.com/child\"}").statusCode())
                    .isEqualTo(201);

            control.close(); // the parent is gone
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).as("the orphan stopped: %s", Files.readString(log)).isTrue();
            assertThat(child.exitValue()).isZero();
            List<String> lines = Files.readAllLines(log);
            assertThat(lines).anyMatch(l -> l.contains("app instance stopped"));
        } finally {
            child.destroyForcibly();
        }
    }
}
