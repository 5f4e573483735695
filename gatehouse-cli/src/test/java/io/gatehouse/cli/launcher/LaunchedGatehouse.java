package io.gatehouse.cli.launcher;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;

/**
 * {@code ./gatehouse ARGS} as a child process, the way an operator or a service manager starts it: the launcher
 * script execs the JVM, so the child's pid is Gatehouse's and signals reach it. Output (stdout and stderr) goes to a
 * file that the test reads for the addresses bound and for what was logged.
 */
final class LaunchedGatehouse implements AutoCloseable {
    /** JVM start on a busy 2-core machine, plus the launcher's JDK probe. */
    static final Duration START = Duration.ofSeconds(90);

    private final Process process;
    private final Path log;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private LaunchedGatehouse(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static LaunchedGatehouse start(Path workDir, Map<String, String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        // A build run under nohup hands its children an ignored SIGHUP, and the JVM will not catch a signal ignored
        // at start: reset it, so the reload-on-SIGHUP test checks Gatehouse and not how the build was started.
        command.addAll(List.of("env", "--default-signal=HUP"));
        command.add(Shell.repoRoot().resolve("gatehouse").toString());
        command.addAll(List.of(args));
        Path log = workDir.resolve("gatehouse.log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(env);
        return new LaunchedGatehouse(pb.start(), log);
    }

    long pid() { return process.pid(); }

    boolean isAlive() { return process.isAlive(); }

    String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Group 1 of the first output line matching {@code pattern}, waiting for it (and failing if the process dies). */
    String awaitLine(Pattern pattern) {
        return awaitLine(pattern, START);
    }

    /** As {@link #awaitLine(Pattern)}, waiting up to {@code atMost} (a bound for a hang, never a timing claim). */
    String awaitLine(Pattern pattern, Duration atMost) {
        AtomicReference<String> found = new AtomicReference<>();
        await().atMost(atMost).pollInterval(Duration.ofMillis(100)).until(() -> {
            Matcher m = pattern.matcher(output());
            if (m.find()) {
                found.set(m.group(1));
                return true;
            }
            if (!process.isAlive()) throw new AssertionError("gatehouse exited " + process.exitValue() + ":\n" + output());
            return false;
        });
        return found.get();
    }

    /** Sends {@code signal} (HUP, TERM, ...) to the process with kill(1). */
    void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) throw new AssertionError("kill -" + signal + " failed");
    }

    /** The exit code, waiting up to {@code timeout}. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("gatehouse still running after " + timeout + ":\n" + output());
        }
        return process.exitValue();
    }

    HttpResponse<String> get(String base, String path) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        client.close();
    }
}
