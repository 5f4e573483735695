package io.gatehouse.cli.launcher;

import io.gatehouse.cli.system.SystemBanner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@code ./gatehouse up} as a process, through the launcher, on free ports: the whole system starts, a link created
 * through the edge redirects through the edge, the whole system (the JVM and its children, PostgreSQL primary and
 * replica and their backends, Redis) stays under the 1.5 GiB (summed RSS; PSS with instances as processes), and a
 * real SIGTERM stops every process of it with exit code 0.
 */
class UpProcessIT {
    /** The bound for the whole system. */
    static final long RSS_LIMIT_KIB = 1536L * 1024;
    /**
     * Up to the banner: initdb, a base backup for the replica, Redis, ZooKeeper and four servers in one JVM. 13 s on a
     * quiet machine, 47 s at a load average of 12-20, and the shared 90 s bound of the other launcher tests was reached
     * under heavier load (other builds on both cores) with nothing hung. The start-up goal (< 30 s) is measured by
     * bench/system-bench.sh, never asserted here: this bound only tells a hang from a slow start.
     */
    static final Duration UP_START = Duration.ofSeconds(240);

    @TempDir
    Path dir;

    @Test
    void upServesALinkThroughTheEdgeAndStopsCleanlyOnSigterm() throws Exception {
        Path home = dir.resolve("home");
        try (LaunchedGatehouse up = LaunchedGatehouse.start(dir, Map.of("GATEHOUSE_HOME", home.toString()),
                "up", "--listen", "127.0.0.1:0", "--listen-tls", "off", "--admin", "off", "--app-ports", "0,0,0");
             HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build()) {
            // the banner's "Try it" names the edge's address
            String edge = up.awaitLine(Pattern.compile("curl -s -X POST (http://\\S+)/api/links"), UP_START);
            // every block is up, none silently left out
            assertThat(up.output()).containsPattern("(?m)^  cache +Redis").containsPattern("(?m)^  db primary +PostgreSQL")
                    .containsPattern("(?m)^  db replica +PostgreSQL").containsPattern("(?m)^  registry +ZooKeeper");
            String code = createAndFollow(client, edge, apiKey(home));

            SystemBanner.Memory afterStart = systemMemory(up.pid(), home);
            traffic(client, edge, apiKey(home), code);
            SystemBanner.Memory afterTraffic = systemMemory(up.pid(), home);
            System.out.printf("gatehouse up (the JVM, its children, the PostgreSQL servers): RSS summed %d MiB after start, %d MiB after traffic; PSS %d, %d MiB%n",
                    afterStart.rssKiB() / 1024, afterTraffic.rssKiB() / 1024, afterStart.pssKiB() / 1024, afterTraffic.pssKiB() / 1024);
            // In one JVM even the upper bound stays under the limit.
            assertThat(afterStart.rssKiB()).as("RSS summed after start, KiB").isGreaterThan(0).isLessThan(RSS_LIMIT_KIB);
            assertThat(afterTraffic.rssKiB()).as("RSS summed after traffic, KiB").isLessThan(RSS_LIMIT_KIB);
            assertThat(afterTraffic.pssKiB()).as("PSS after traffic, KiB").isGreaterThan(0).isLessThanOrEqualTo(afterTraffic.rssKiB());

            List<ProcessHandle> system = systemProcesses(up.pid(), home);
            up.signal("TERM");
            assertThat(up.awaitExit(Duration.ofSeconds(60))).as(up.output()).isZero();
            assertAllEnd(system);
        }
    }

    /**
     * {@code --app-processes}: each app instance is a child JVM with its own pid (printed in the banner). A real
     * {@code kill -9} of one: the edge keeps serving through the other two. SIGTERM to up then ends every process of
     * the system, and the instances' ports stop listening.
     */
    @Test
    void appInstancesAsChildProcessesCanBeKilledForRealAndAllEndOnSigterm() throws Exception {
        Path home = dir.resolve("home-processes");
        try (LaunchedGatehouse up = LaunchedGatehouse.start(dir, Map.of("GATEHOUSE_HOME", home.toString()),
                "up", "--app-processes", "--listen", "127.0.0.1:0", "--listen-tls", "off", "--admin", "off", "--app-ports", "0,0,0");
             HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build()) {
            String edge = up.awaitLine(Pattern.compile("curl -s -X POST (http://\\S+)/api/links"), UP_START);
            Matcher rows = Pattern.compile("(app-\\d) +Helidon SE 4 \\(virtual threads\\), pid (\\d+) +http://127\\.0\\.0\\.1:(\\d+) +(?:ready|degraded)")
                    .matcher(up.output());
            Map<String, Long> pids = new java.util.TreeMap<>();
            List<Integer> ports = new ArrayList<>();
            while (rows.find()) {
                pids.put(rows.group(1), Long.parseLong(rows.group(2)));
                ports.add(Integer.parseInt(rows.group(3)));
            }
            assertThat(pids).as(up.output()).containsOnlyKeys("app-1", "app-2", "app-3");
            List<Long> children = ProcessHandle.of(up.pid()).orElseThrow().children().map(ProcessHandle::pid).toList();
            assertThat(children).containsAll(pids.values());
            assertThat(up.output()).contains("kill -9 " + pids.get("app-2"));

            String code = createAndFollow(client, edge, apiKey(home));
            SystemBanner.Memory memory = systemMemory(up.pid(), home);
            System.out.printf("gatehouse up --app-processes (the JVM, its children, the PostgreSQL servers): PSS %d MiB, RSS summed %d MiB%n",
                    memory.pssKiB() / 1024, memory.rssKiB() / 1024);
            // Four JVMs map the same libjvm and CDS archive, and 30 PostgreSQL backends the same shared buffers: the
            // RSS sum counts those pages four and thirty times (1.45-1.6 GiB measured), PSS once.
            assertThat(memory.pssKiB()).as("PSS, KiB").isGreaterThan(0).isLessThan(RSS_LIMIT_KIB);
            List<ProcessHandle> system = systemProcesses(up.pid(), home);

            Process kill = new ProcessBuilder("kill", "-9", Long.toString(pids.get("app-2"))).inheritIO().start();
            assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(pids.get("app-2")).map(p -> !p.isAlive()).orElse(true));
            // Every redirect right after the crash is answered: a request the edge sends to the dead instance fails
            // to connect and is retried on another one, until the health check takes it out.
            int failed = 0;
            for (int i = 0; i < 60; i++) {
                HttpResponse<Void> r = client.send(HttpRequest.newBuilder(URI.create(edge + "/" + code))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() != 302) failed++;
            }
            assertThat(failed).as("redirects not answered with 302 after the kill").isZero();
            assertThat(up.isAlive()).isTrue();

            // Failover with the instances in other processes: each surviving one is repointed over its control channel,
            // so writes through the edge (round robin over both) succeed on the promoted primary.
            try (LaunchedGatehouse promote = LaunchedGatehouse.start(Files.createDirectories(dir.resolve("promote")), Map.of("GATEHOUSE_HOME", home.toString()), "db", "promote")) {
                assertThat(promote.awaitExit(Duration.ofSeconds(120))).as(promote.output()).isZero();
            }
            for (int i = 0; i < 4; i++) createAndFollow(client, edge, apiKey(home));

            up.signal("TERM");
            assertThat(up.awaitExit(Duration.ofSeconds(90))).as(up.output()).isZero();
            assertAllEnd(system);
            for (int port : ports) {
                assertThatThrownBy(() -> new java.net.Socket("127.0.0.1", port).close()).as("port " + port + " still listening")
                        .isInstanceOf(java.net.ConnectException.class);
            }
        }
    }

    /** The API key up made for its demo consumer: through the edge, links are created with it. */
    static String apiKey(Path home) {
        String key = io.gatehouse.cli.system.ApiKeyFile.read(home.resolve(io.gatehouse.cli.system.ApiKeyFile.NAME));
        assertThat(key).as("up's API key in %s", home).isNotNull();
        return key;
    }

    /** Makes a link through the edge and follows it; returns its code. */
    static String createAndFollow(HttpClient client, String edge, String apiKey) throws Exception {
        HttpResponse<String> created = client.send(HttpRequest.newBuilder(URI.create(edge + "/api/links"))
                .timeout(Duration.ofSeconds(10)).header("x-api-key", apiKey)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"target\":\"https://example.com/from-up\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        Matcher code = Pattern.compile("\"code\":\"([^\"]+)\"").matcher(created.body());
        assertThat(code.find()).as(created.body()).isTrue();

        HttpResponse<String> followed = client.send(HttpRequest.newBuilder(URI.create(edge + "/" + code.group(1)))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(followed.statusCode()).as("GET /%s: %s %s", code.group(1), followed.headers().map(), followed.body()).isEqualTo(302);
        assertThat(followed.headers().firstValue("location")).hasValue("https://example.com/from-up");
        return code.group(1);
    }

    /** Every process of the system has ended (the PostgreSQL servers take a moment after up exits). */
    static void assertAllEnd(List<ProcessHandle> system) {
        assertThat(system).hasSizeGreaterThan(3);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(system.stream().filter(ProcessHandle::isAlive).map(p -> p.pid() + " " + p.info().commandLine().orElse("")))
                        .as("processes of the system still running").isEmpty());
    }

    /** 200 links made and 2,000 redirects followed through the edge, from 8 virtual threads: every answer checked. */
    static void traffic(HttpClient client, String edge, String apiKey, String hot) throws Exception {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                all.add(pool.submit(() -> {
                    for (int i = 0; i < 25; i++) {
                        HttpResponse<String> made = client.send(HttpRequest.newBuilder(URI.create(edge + "/api/links"))
                                .timeout(Duration.ofSeconds(10)).header("x-api-key", apiKey)
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString("{\"target\":\"https://example.com/t" + i + "\"}")).build(),
                                HttpResponse.BodyHandlers.ofString());
                        assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
                        for (int j = 0; j < 10; j++) {
                            HttpResponse<Void> r = client.send(HttpRequest.newBuilder(URI.create(edge + "/" + hot))
                                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding());
                            assertThat(r.statusCode()).isEqualTo(302);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : all) f.get(120, TimeUnit.SECONDS);
        }
    }

    /**
     * The system's processes: up's JVM and its descendants (Redis, app instances as processes), plus each PostgreSQL
     * server (pg_ctl detaches it from its parent: found by the postmaster.pid in its data directory) and its backends.
     */
    static List<ProcessHandle> systemProcesses(long pid, Path home) throws IOException {
        ProcessHandle root = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("gatehouse up is not running"));
        java.util.Set<ProcessHandle> all = new java.util.LinkedHashSet<>();
        List<ProcessHandle> roots = new ArrayList<>(List.of(root));
        for (String server : List.of("primary", "replica")) {
            Path pidFile = home.resolve("postgres").resolve(server).resolve("postmaster.pid");
            if (Files.exists(pidFile)) ProcessHandle.of(Long.parseLong(Files.readAllLines(pidFile).get(0).trim())).ifPresent(roots::add);
        }
        assertThat(roots).as("up's JVM and two PostgreSQL servers").hasSize(3);
        for (ProcessHandle r : roots) {
            all.add(r);
            r.descendants().forEach(all::add);
        }
        return List.copyOf(all);
    }

    /**
     * Resident memory summed over {@link #systemProcesses}. In the RSS sum a shared page counts once per process that
     * maps it (an upper bound); in the PSS sum it is split between them (what the system takes).
     */
    static SystemBanner.Memory systemMemory(long pid, Path home) throws IOException {
        SystemBanner.Memory sum = SystemBanner.Memory.NONE;
        for (ProcessHandle p : systemProcesses(pid, home)) sum = sum.plus(SystemBanner.memoryOf(p.pid()));
        return sum;
    }
}
