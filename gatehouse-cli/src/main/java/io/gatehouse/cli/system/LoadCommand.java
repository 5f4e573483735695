package io.gatehouse.cli.system;

import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.lang.management.CompilationMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code gatehouse load}: creates links through the edge, then follows them at a fixed rate with Zipf-distributed
 * popularity, and reports latency percentiles (coordinated omission corrected), the cache hit ratio and the
 * database queries per 1,000 redirects (both read from the app instances' metrics).
 */
@Command(name = "load", description = {"Open-loop load on a running `gatehouse up`: redirects at a fixed rate over",
        "Zipf-distributed links; prints p50/p99/p99.9 (coordinated omission corrected), hit ratio and DB queries."})
public final class LoadCommand implements Callable<Integer> {
    private static final Pattern CODE = Pattern.compile("\"code\":\"([^\"]+)\"");

    @Spec
    CommandSpec spec;

    @Option(names = "--target", defaultValue = "http://127.0.0.1:8080", description = "The edge (default: ${DEFAULT-VALUE}).")
    String target;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "The API key links are created with through the edge (default: $GATEHOUSE_API_KEY, else the key `up` keeps in its home folder).")
    String apiKey;

    @Option(names = "--rate", defaultValue = "500", description = "Requests per second (default: ${DEFAULT-VALUE}).")
    int rate;

    @Option(names = "--duration", defaultValue = "10", description = "Seconds (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--links", defaultValue = "1000", description = "Distinct links to create and follow (default: ${DEFAULT-VALUE}).")
    int links;

    @Option(names = "--zipf", defaultValue = "1.0", description = "Zipf exponent; 0 is uniform (default: ${DEFAULT-VALUE}).")
    double zipf;

    @Option(names = "--path", paramLabel = "PATH",
            description = "Request this one path instead of creating and following links (the edge in front of any backend).")
    String path;

    @Option(names = "--codes", paramLabel = "FILE",
            description = "Reuse the links listed in FILE (one code a line); when FILE does not exist, create them and write it. "
                    + "Runs that share links measure a warm cache instead of each link's first miss.")
    java.nio.file.Path codesFile;

    @Option(names = "--warmup", defaultValue = "10", paramLabel = "SECONDS",
            description = {"Run at the same rate for at least this long first, in this JVM and on the same connections, then on in "
                    + "1 s slices until this JVM's JIT settles (--jit-settled), at most --warmup-max s. Reported on its own line, "
                    + "never in the figures; 0: no warm-up (default: ${DEFAULT-VALUE})."})
    int warmupSeconds;

    @Option(names = "--warmup-max", defaultValue = "60", paramLabel = "SECONDS",
            description = "The longest warm-up, settled or not (default: ${DEFAULT-VALUE}).")
    int warmupMaxSeconds;

    @Option(names = "--jit-settled", defaultValue = "20", paramLabel = "MS",
            description = "The JIT counts as settled when it compiled for less than this many ms in the last 1 s slice of the "
                    + "warm-up (default: ${DEFAULT-VALUE}; a fresh generator JVM compiles for seconds, and every compilation "
                    + "it does in the measured run is a hiccup charged to the server).")
    int jitSettledMillis;

    @Option(names = "--connections", defaultValue = "" + OpenLoop.Client.DEFAULT_CONNECTIONS, paramLabel = "N",
            description = "At most this many keep-alive connections; one is opened whenever a request is due and every open one "
                    + "is busy, and beyond N requests wait for one, their latency still counted from when they were due "
                    + "(default: ${DEFAULT-VALUE}).")
    int connections;

    @Option(names = "--ca", paramLabel = "FILE",
            description = "For an https --target: trust the certificates in this PEM file (default: the local CA `up` keeps in "
                    + "its home folder, when there is one; else the JDK's trusted authorities).")
    java.nio.file.Path ca;

    @Option(names = "--cpu-of", split = ",", paramLabel = "PID",
            description = "Server processes (each with its descendants) whose CPU time per request is reported, measured over "
                    + "the recorded run only.")
    List<Long> cpuOf = new ArrayList<>();

    @Option(names = "--metrics", split = ",", defaultValue = "http://127.0.0.1:9001/metrics,http://127.0.0.1:9002/metrics,http://127.0.0.1:9003/metrics",
            description = "App instances' /metrics, for hit ratio and DB queries (default: the three of `gatehouse up`).")
    List<String> metrics;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (rate <= 0 || seconds <= 0 || links <= 0 || connections <= 0 || warmupSeconds < 0 || jitSettledMillis < 0) {
            spec.commandLine().getErr().println("--rate, --duration, --links and --connections must be positive, --warmup and --jit-settled not negative");
            return 2;
        }
        warmupMaxSeconds = Math.max(warmupMaxSeconds, warmupSeconds);
        URI base = URI.create(target.endsWith("/") ? target : target + "/");
        List<String> paths;
        if (path != null) {
            paths = List.of(path.startsWith("/") ? path.substring(1) : path);
        } else if (codesFile != null && java.nio.file.Files.exists(codesFile)) {
            paths = java.nio.file.Files.readAllLines(codesFile).stream().filter(l -> !l.isBlank()).toList();
            out.printf("following the %d links of %s …%n", paths.size(), codesFile);
        } else {
            out.printf("creating %d links through %s …%n", links, base);
            out.flush();
            paths = createLinks(base, links, apiKey != null ? apiKey : defaultApiKey());
            if (codesFile != null) java.nio.file.Files.write(codesFile, paths);
        }
        java.nio.file.Path trusted = ca;
        if (trusted == null && "https".equalsIgnoreCase(base.getScheme())) {
            java.nio.file.Path local = SystemStack.defaultHome().resolve("ca.crt");
            if (java.nio.file.Files.isReadable(local)) trusted = local;
        }
        try (OpenLoop.Client client = new OpenLoop.Client(base, connections, trusted)) {
            return measure(out, client, paths);
        }
    }

    private int measure(PrintWriter out, OpenLoop.Client client, List<String> paths) throws Exception {
        if (warmupSeconds > 0) {
            out.printf("warming up at %d/s for %d to %d s, until this JVM's JIT settles …%n", rate, warmupSeconds, warmupMaxSeconds);
            out.flush();
            out.println(warmUp(client, paths).line(rate, jitSettledMillis));
        }
        Counters before = Counters.scrape(metrics);
        long[] ownBefore = ownPauses();
        Duration cpuBefore = cpu(cpuOf);
        Map<String, Long> partsBefore = cpuOf.isEmpty() ? Map.of() : CpuParts.sample(cpuOf);
        out.printf("requesting %s at %d/s for %d s (Zipf s=%.2f) …%n", path != null ? "/" + paths.get(0) : "them", rate, seconds, zipf);
        out.flush();
        OpenLoop.Result r = client.run(paths, new Zipf(paths.size(), zipf), rate, Duration.ofSeconds(seconds),
                Duration.ofSeconds(10), 20_000, 42);
        long[] ownAfter = ownPauses();
        Duration cpuUsed = cpu(cpuOf).minus(cpuBefore);
        Map<String, Long> parts = cpuOf.isEmpty() ? Map.of() : CpuParts.minus(CpuParts.sample(cpuOf), partsBefore);
        Counters delta = path != null ? new Counters(0, 0, -1) : Counters.scrape(metrics).minus(before);
        out.print(report(r, delta));
        // Lateness is measured when a request is handed over; a hiccup of this JVM while an answer waits in its
        // socket is not in it, but is charged to the server all the same: this JVM's own GC and JIT over the run.
        out.printf("generator JVM during the run: %d GC pauses, %d ms in GC, %d ms of JIT compilation%n",
                ownAfter[0] - ownBefore[0], ownAfter[1] - ownBefore[1], ownAfter[2] - ownBefore[2]);
        if (!cpuOf.isEmpty()) {
            out.printf("server CPU %.2f s over %.1f s (%.2f cores), %.1f us per request (pids %s and their descendants)%n",
                    cpuUsed.toNanos() / 1e9, r.elapsed().toNanos() / 1e9, cpuUsed.toNanos() / (double) r.elapsed().toNanos(),
                    cpuUsed.toNanos() / 1e3 / Math.max(1, r.ok()), cpuOf);
            out.println("server CPU by part, us per request: " + CpuParts.format(parts, Math.max(1, r.ok())));
        }
        out.flush();
        return r.errors() == 0 && r.dropped() == 0 ? 0 : 1;
    }

    /**
     * The warm-up: 1 s slices at the rate, at least {@code --warmup} of them, until the JIT compiled for less than
     * {@code --jit-settled} ms in the last one, at most {@code --warmup-max} in all. Each slice is its own open loop on
     * the shared client (a slice waits for its stragglers before the next starts: a few ms, never measured).
     */
    private WarmUp warmUp(OpenLoop.Client client, List<String> paths) throws InterruptedException {
        Histogram latency = new Histogram(java.util.concurrent.TimeUnit.SECONDS.toMicros(60), 3);
        Histogram lateness = new Histogram(java.util.concurrent.TimeUnit.SECONDS.toMicros(60), 3);
        Zipf pick = new Zipf(paths.size(), zipf);
        long jitStart = ownPauses()[2];
        long sent = 0, ok = 0;
        long lastSliceJit = -1;
        int elapsed = 0;
        boolean settled = false;
        while (elapsed < warmupMaxSeconds) {
            long jitBefore = ownPauses()[2];
            OpenLoop.Result slice = client.run(paths, pick, rate, Duration.ofSeconds(1), Duration.ofSeconds(10), 20_000, 7 + elapsed);
            latency.add(slice.latencyMicros());
            lateness.add(slice.latenessMicros());
            sent += slice.sent();
            ok += slice.ok();
            elapsed++;
            lastSliceJit = ownPauses()[2] - jitBefore;
            if (elapsed >= warmupSeconds && lastSliceJit < jitSettledMillis) {
                settled = true;
                break;
            }
        }
        return new WarmUp(elapsed, sent, ok, settled, lastSliceJit, ownPauses()[2] - jitStart, latency, lateness);
    }

    /** What the warm-up did; reported apart from the measured run. */
    record WarmUp(int seconds, long sent, long ok, boolean settled, long lastSliceJitMs, long jitMs, Histogram latencyMicros,
                  Histogram latenessMicros) {
        String line(int rate, int settledMillis) {
            String jit = settled
                    ? String.format("until this JVM's JIT settled (%d ms of compilation in the last 1 s, under %d)", lastSliceJitMs, settledMillis)
                    : String.format("the JIT did not settle (%d ms of compilation in the last 1 s, --jit-settled %d): the measured run "
                    + "still compiles, and its hiccups count against the server", lastSliceJitMs, settledMillis);
            return String.format("warm-up (not in the figures below): %d s at %d/s %s; %d ms of JIT compilation in all; sent %d, ok %d, "
                            + "latency p99 %.2f ms, generator lateness p99 %.2f ms",
                    seconds, rate, jit, jitMs, sent, ok, ms(latencyMicros, 99), ms(latenessMicros, 99));
        }
    }

    /** This JVM's collections, milliseconds in them, and milliseconds of JIT compilation, so far. */
    static long[] ownPauses() {
        long n = 0, ms = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, gc.getCollectionCount());
            ms += Math.max(0, gc.getCollectionTime());
        }
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        long jitMs = jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
        return new long[] {n, ms, jitMs};
    }

    /**
     * CPU time (user + system) of these processes and all their descendants alive now. Descendants that ended earlier
     * are not counted, so the caller measures a window in which the servers keep their processes.
     */
    static Duration cpu(List<Long> pids) {
        Duration total = Duration.ZERO;
        for (long pid : pids) {
            ProcessHandle root = ProcessHandle.of(pid).orElse(null);
            if (root == null) continue;
            for (ProcessHandle p : java.util.stream.Stream.concat(java.util.stream.Stream.of(root), root.descendants()).toList()) {
                total = total.plus(p.info().totalCpuDuration().orElse(Duration.ZERO));
            }
        }
        return total;
    }

    static String report(OpenLoop.Result r, Counters delta) {
        Histogram h = r.latencyMicros();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("sent %d, ok %d, errors %d, dropped %d, achieved %.0f/s%n", r.sent(), r.ok(), r.errors(),
                r.dropped(), r.achievedRate()));
        sb.append(String.format("latency from the intended send time (ms): p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f%n",
                ms(h, 50), ms(h, 90), ms(h, 99), ms(h, 99.9), h.getMaxValue() / 1000.0));
        Histogram late = r.latenessMicros();
        sb.append(String.format("generator lateness, due to sent (ms): p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f%n",
                ms(late, 50), ms(late, 99), ms(late, 99.9), late.getMaxValue() / 1000.0));
        // Latency counts from the due time, so a late send is in it: a p99 made mostly of lateness is the generator's.
        if (late.getTotalCount() > 0 && ms(late, 99) >= 0.5 * ms(h, 99) && ms(late, 99) >= 1.0) {
            sb.append(String.format("the generator was late: its lateness p99 (%.2f ms) is %.0f %% of the latency p99; that much of "
                    + "the tail is this generator's, not the server's%n", ms(late, 99), 100 * ms(late, 99) / Math.max(1e-9, ms(h, 99))));
        }
        if (delta.lookups() >= 0 && delta.requests() > 0) {
            sb.append(String.format("cache hit ratio %.3f, database queries per 1,000 redirects %.1f%n",
                    delta.hits() / delta.requests(), 1000.0 * delta.lookups() / Math.max(1, r.ok())));
        } else if (delta.lookups() != -1) {
            sb.append("cache hit ratio: no app metrics reachable (--metrics)\n");
        }
        return sb.toString();
    }

    private static double ms(Histogram h, double percentile) {
        return h.getValueAtPercentile(percentile) / 1000.0;
    }

    /** {@code $GATEHOUSE_API_KEY}, else the key {@code up} keeps in its home folder, else none. */
    static String defaultApiKey() {
        String env = System.getenv("GATEHOUSE_API_KEY");
        if (env != null && !env.isBlank()) return env.trim();
        return ApiKeyFile.read(SystemStack.defaultHome().resolve(ApiKeyFile.NAME));
    }

    /**
     * Through the edge a link is created with the API key (the edge names its consumer to the app); an app instance
     * addressed directly takes the user header itself, which the edge would strip.
     */
    private static List<String> createLinks(URI base, int n, String apiKey) throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        List<String> paths = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve("api/links")).timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json").header("X-Gatehouse-User", "load")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"target\":\"https://example.com/load/" + i + "\"}"));
            if (apiKey != null) b.header("x-api-key", apiKey);
            HttpResponse<String> res = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
            Matcher m = CODE.matcher(res.body());
            if (res.statusCode() == 401) {
                throw new IllegalStateException("creating a link was refused (401): through the edge, links are created with an API key: "
                        + "--api-key KEY (up prints it, and keeps it in " + SystemStack.defaultHome().resolve(ApiKeyFile.NAME) + ")");
            }
            if (res.statusCode() != 201 || !m.find()) throw new IllegalStateException("creating a link failed: " + res.statusCode() + " " + res.body());
            paths.add(m.group(1));
        }
        client.close();
        return paths;
    }

    /** Sums of the app instances' cache counters; an unreachable instance counts as zero. */
    record Counters(double hits, double requests, double lookups) {
        private static final Pattern LINE = Pattern.compile("^(app_cache_requests_total|app_db_link_lookups_total)\\{([^}]*)} ([0-9.eE+-]+)$");

        static Counters scrape(List<String> urls) {
            double hits = 0, requests = 0, lookups = 0;
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
            for (String url : urls) {
                try {
                    String body = client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                            HttpResponse.BodyHandlers.ofString()).body();
                    for (String line : body.split("\n")) {
                        Matcher m = LINE.matcher(line);
                        if (!m.matches()) continue;
                        double v = Double.parseDouble(m.group(3));
                        if (m.group(1).equals("app_db_link_lookups_total")) {
                            lookups += v;
                        } else {
                            requests += v;
                            if (m.group(2).contains("result=\"hit\"")) hits += v;
                        }
                    }
                } catch (Exception e) {
                    // not running: nothing to add
                }
            }
            client.close();
            return new Counters(hits, requests, lookups);
        }

        Counters minus(Counters o) {
            return new Counters(hits - o.hits, requests - o.requests, lookups - o.lookups);
        }
    }
}
