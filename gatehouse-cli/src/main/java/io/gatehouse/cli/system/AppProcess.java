package io.gatehouse.cli.system;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An app instance as a child JVM ({@code io.gatehouse.app.Main}, from this process's own class path), for
 * {@code gatehouse up --app-processes}: an instance that can really crash ({@code kill -9}), and whose memory and
 * CPU are its own. Its standard input is the parent's private control channel (a {@code repoint} after a failover);
 * when the parent dies, however it dies, that pipe closes and the instance stops itself. Its output goes to
 * {@code <home>/apps/<id>.log}.
 */
final class AppProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("app listening on http://127\\.0\\.0\\.1:(\\d+)");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A JVM start, Flyway's check and the pools on a busy 2-core machine. */
    private static final Duration START = Duration.ofSeconds(90);
    private static final Duration STOP = Duration.ofSeconds(20);

    private final String id;
    private final Process process;
    private final Path log;
    private final int port;
    private final OutputStream control;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private AppProcess(String id, Process process, Path log, int port) {
        this.id = id;
        this.process = process;
        this.log = log;
        this.port = port;
        this.control = process.getOutputStream();
    }

    /**
     * Starts an instance and waits until it listens. {@code env}: the blocks' addresses as {@code Main} reads them.
     * A fixed port that is taken falls back to a free one, as in-process instances do.
     */
    static AppProcess start(String id, int port, Map<String, String> env, Path home) throws IOException {
        try {
            return launch(id, port, env, home);
        } catch (IOException e) {
            if (port == 0) throw e;
            return launch(id, 0, env, home);
        }
    }

    private static AppProcess launch(String id, int port, Map<String, String> env, Path home) throws IOException {
        Path dir = home.resolve("apps");
        Files.createDirectories(dir);
        Path log = dir.resolve(id + ".log");
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        // A small heap kept tight, and the serial collector: an instance's live set is its pools, its near cache and
        // requests in flight; three instances sit beside the edge, PostgreSQL and Redis within the system's 1.5 GiB.
        // Measured under `up --app-processes` after traffic: with -Xmx256m the heap grew to all of it (415 MiB RSS per
        // instance); with these flags 240-260 MiB (heap 87 MiB, metaspace 46 MiB, code 17 MiB, the rest native).
        command.addAll(List.of("-Xms16m", "-Xmx96m", "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=30",
                "-XX:+UseSerialGC", "-Xshare:auto", "-XX:+ExitOnOutOfMemoryError",
                "--enable-native-access=ALL-UNNAMED", "-Dio.lettuce.core.iouring=false"));
        // Extra flags for the instances (they come last, so they win), as GATEHOUSE_JAVA_OPTS is for up's own JVM.
        String extra = System.getenv("GATEHOUSE_APP_JAVA_OPTS");
        if (extra != null && !extra.isBlank()) command.addAll(Arrays.asList(extra.trim().split("\\s+")));
        command.add("-cp");
        command.add(String.join(java.io.File.pathSeparator, Arrays.stream(System.getProperty("java.class.path")
                .split(java.io.File.pathSeparator)).map(p -> Path.of(p).toAbsolutePath().toString()).toList()));
        command.add("io.gatehouse.app.Main");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        pb.environment().put("GATEHOUSE_INSTANCE", id);
        pb.environment().put("GATEHOUSE_APP_PORT", Integer.toString(port));
        pb.environment().put("GATEHOUSE_CONTROL", "stdin");
        pb.environment().putIfAbsent("MALLOC_ARENA_MAX", "2"); // glibc's per-thread arenas add RSS for no gain here
        Process p = pb.start();
        long deadline = System.nanoTime() + START.toNanos();
        while (System.nanoTime() < deadline) {
            Matcher m = LISTENING.matcher(Files.readString(log));
            if (m.find()) return new AppProcess(id, p, log, Integer.parseInt(m.group(1)));
            if (!p.isAlive()) throw new IOException(id + " exited with " + p.exitValue() + " while starting; see " + log);
            try {
                p.waitFor(100, TimeUnit.MILLISECONDS); // polls its output at most ten times a second
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
                throw new IOException("interrupted while starting " + id, e);
            }
        }
        p.destroyForcibly();
        throw new IOException(id + " did not listen within " + START.toSeconds() + " s; see " + log);
    }

    String id() { return id; }
    int port() { return port; }
    long pid() { return process.pid(); }
    boolean alive() { return process.isAlive(); }
    Path log() { return log; }

    /** The instance's {@code /ready} report, or null when it does not answer within a second. */
    JsonNode ready() {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ready"))
                    .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(r.body());
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** After a failover: moves the instance's writes to the new primary (its control channel), waiting for the ack. */
    void repoint(String jdbcUrl) {
        try {
            control.write(("repoint " + jdbcUrl + "\n").getBytes(StandardCharsets.UTF_8));
            control.flush();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (System.nanoTime() < deadline) {
                if (Files.readString(log).contains("repointed writes to " + jdbcUrl)) return;
                process.waitFor(50, TimeUnit.MILLISECONDS);
            }
            throw new IllegalStateException(id + " did not confirm the repoint; see " + log);
        } catch (IOException e) {
            throw new IllegalStateException(id + " cannot be repointed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** SIGKILL, as a crash: no deregistration, no last flush; ZooKeeper's session expiry and the edge's health check notice. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        http.close();
    }

    /** SIGTERM (a clean stop: it leaves the registry and flushes its counts), then SIGKILL if it hangs. */
    @Override
    public void close() {
        if (!process.isAlive()) {
            http.close();
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(STOP.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        http.close();
    }
}
