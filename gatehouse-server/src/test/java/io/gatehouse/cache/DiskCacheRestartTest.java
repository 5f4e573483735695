package io.gatehouse.cache;

import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestBackend;
import io.gatehouse.testing.TestResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The disk tier across a real crash: a Gatehouse in a child JVM with a disk cache stores some objects, is SIGKILLed
 * while a large object is still streaming in from a slow origin and its {@code .tmp} file is partly written (the disk
 * copy follows the body as it arrives), and is started again on the same directory. The complete objects are hits
 * (the origin sees no request for them), the half-written one is a miss and its {@code .tmp} is gone, and a file
 * corrupted on purpose (one byte flipped) and a truncated one are never served and are removed.
 */
class DiskCacheRestartTest {
    @RegisterExtension
    static final TestBackend origin = new TestBackend().name("origin");
    @TempDir
    static Path dir;
    static volatile boolean restarted;
    static final List<Process> processes = new ArrayList<>();

    static final String HOST = "cdn.example";

    @AfterAll
    static void stop() {
        for (Process p : processes) p.destroyForcibly();
    }

    static TestResponse respond(RecordedRequest r) {
        String path = r.path();
        if (path.equals("/slow")) {
            // 2 MiB in 8 KiB pieces every 20 ms (~5 s) before the restart; quickly after it
            return restarted ? TestResponse.ok("slow again").header("cache-control", "max-age=3600")
                    : TestResponse.ok().header("cache-control", "max-age=3600").generatedBody(2 << 20).dripBody(8192, Duration.ofMillis(20));
        }
        // after the restart the damaged objects come back uncacheable, so their files stay gone once removed
        boolean noStore = restarted && (path.equals("/obj/4") || path.equals("/obj/5"));
        return TestResponse.ok(("object " + path + " ").repeat(200)).header("cache-control", noStore ? "no-store" : "max-age=3600");
    }

    static long originRequests(String path) {
        return origin.requests().stream().filter(r -> r.path().equals(path)).count();
    }

    /** Starts Gatehouse in its own JVM and returns its listener port. */
    static int launch(Path config, String name) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                DiskCacheMain.class.getName(), config.toString());
        pb.redirectError(dir.resolve(name + ".err").toFile());
        Process p = pb.start();
        processes.add(p);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread drain = new Thread(() -> {
            try {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    if (line.startsWith("GATEHOUSE-PORT ")) port.complete(Integer.parseInt(line.substring(15).strip()));
                }
            } catch (IOException ended) {
                // the process was killed
            }
            port.completeExceptionally(new IllegalStateException("gatehouse exited; see " + name + ".err"));
        }, "drain-" + name);
        drain.setDaemon(true);
        drain.start();
        return port.get(60, TimeUnit.SECONDS);
    }

    static List<Path> objects(Path routeDir) throws IOException {
        if (!Files.isDirectory(routeDir)) return List.of();
        try (Stream<Path> s = Files.list(routeDir)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".obj")).toList();
        }
    }

    /** The object file whose header names {@code path}'s URL (the header is plain text). */
    static Path fileOf(Path routeDir, String path) throws IOException {
        byte[] url = ("http://" + HOST + path + "\0").getBytes(StandardCharsets.ISO_8859_1);
        for (Path f : objects(routeDir)) {
            byte[] all = Files.readAllBytes(f);
            if (new String(all, StandardCharsets.ISO_8859_1).contains(new String(url, StandardCharsets.ISO_8859_1))) return f;
        }
        throw new AssertionError("no file for " + path);
    }

    @Test
    void completeObjectsSurviveASigkillAndNothingHalfWrittenOrCorruptIsServed() throws Exception {
        origin.respond(DiskCacheRestartTest::respond);
        Path cache = dir.resolve("cache");
        Path config = dir.resolve("gatehouse.yaml");
        Files.writeString(config, """
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: all
                        cluster: app
                        filters:
                          - cache: {x_cache: true, max_object_size: 4MiB, disk: {path: "%s", max_size: 64MiB}}
                clusters:
                  - name: app
                    endpoints: ["%s"]
                admin: {address: "off"}
                """.formatted(cache, origin.address()));
        Path routeDir = cache.resolve("edge.all");

        int port = launch(config, "first");
        for (int i = 1; i <= 5; i++) {
            RawHttp.Response r = RawHttp.get(port, HOST, "/obj/" + i);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("x-cache")).isEqualTo("MISS");
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> objects(routeDir).size() == 5);
        assertThat(RawHttp.get(port, HOST, "/obj/1").header("x-cache")).isEqualTo("HIT");

        // a large object streams in slowly; the process dies with part of it received
        Socket slow = RawHttp.send(port, HOST, "/slow");
        InputStream in = slow.getInputStream();
        while (!RawHttp.line(in).isEmpty()) {
            // the head
        }
        assertThat(in.readNBytes(16 * 1024)).hasSize(16 * 1024);
        // kill while the object's .tmp exists and holds part of it: inside the stream, not after it
        int slowSize = 2 << 20;
        Path[] partial = new Path[1];
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(10)).until(() -> {
            try (Stream<Path> s = Files.list(routeDir)) {
                for (Path f : s.toList()) {
                    if (!f.getFileName().toString().endsWith(".tmp")) continue;
                    long size = Files.size(f);
                    // past 64 KiB only the large object's: a small object's .tmp (2.8 KB) lives for a moment and is
                    // renamed, so catching one here would not be a kill inside the large write
                    if (size > 64 * 1024 && size < slowSize) {
                        partial[0] = f;
                        return true;
                    }
                }
            } catch (java.nio.file.NoSuchFileException renamedMeanwhile) {
                // a write finished between the listing and the size
            }
            return false;
        });
        Process first = processes.get(0);
        first.destroyForcibly();   // SIGKILL
        assertThat(first.waitFor(20, TimeUnit.SECONDS)).isTrue();
        slow.close();
        assertThat(originRequests("/slow")).isEqualTo(1);

        // damage two complete objects and leave a temp file as a write cut short would
        Path corrupted = fileOf(routeDir, "/obj/5");
        try (RandomAccessFile f = new RandomAccessFile(corrupted.toFile(), "rw")) {
            long at = f.length() - 10;   // in the body, before the checksum
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x01);
        }
        Path truncated = fileOf(routeDir, "/obj/4");
        try (RandomAccessFile f = new RandomAccessFile(truncated.toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        assertThat(partial[0]).exists();
        long partialSize = Files.size(partial[0]);
        // at most the magic, the flags and body bytes: no header or checksum yet (more body may have arrived between
        // the poll and the kill, but the object was not complete: it would have been renamed)
        assertThat(partialSize).isPositive().isLessThanOrEqualTo(5 + slowSize);

        restarted = true;
        port = launch(config, "second");
        assertThat(partial[0]).doesNotExist();   // the half-written object's .tmp is gone at start
        assertThat(truncated).doesNotExist();   // its length does not match its header: dropped from the index at start

        for (int i = 1; i <= 3; i++) {
            RawHttp.Response r = RawHttp.get(port, HOST, "/obj/" + i);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("x-cache")).as("/obj/" + i).isEqualTo("HIT");
            assertThat(r.text()).isEqualTo(("object /obj/" + i + " ").repeat(200));
            assertThat(originRequests("/obj/" + i)).isEqualTo(1);
        }
        RawHttp.Response corrupt = RawHttp.get(port, HOST, "/obj/5");
        assertThat(corrupt.header("x-cache")).isEqualTo("MISS");
        assertThat(corrupt.text()).isEqualTo(("object /obj/5 ").repeat(200));   // the origin's, not the flipped byte
        assertThat(originRequests("/obj/5")).isEqualTo(2);
        await().atMost(Duration.ofSeconds(10)).until(() -> !Files.exists(corrupted));

        RawHttp.Response cut = RawHttp.get(port, HOST, "/obj/4");
        assertThat(cut.header("x-cache")).isEqualTo("MISS");
        assertThat(originRequests("/obj/4")).isEqualTo(2);

        RawHttp.Response again = RawHttp.get(port, HOST, "/slow");
        assertThat(again.header("x-cache")).isEqualTo("MISS");
        assertThat(again.text()).isEqualTo("slow again");
        assertThat(originRequests("/slow")).isEqualTo(2);
    }
}
