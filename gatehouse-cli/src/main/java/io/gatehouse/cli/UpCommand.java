package io.gatehouse.cli;

import io.gatehouse.cli.demo.DemoEndpoint;
import io.gatehouse.cli.demo.DemoStack;
import io.gatehouse.cli.system.Block;
import io.gatehouse.cli.system.SystemBanner;
import io.gatehouse.cli.system.SystemStack;
import io.gatehouse.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code gatehouse up}: the whole system on one machine (edge, three app instances, PostgreSQL primary and replica,
 * Redis), or a subset with {@code --blocks}. {@code --blocks edge} alone is the original demo: the edge in front of
 * three demo endpoints, to see load balancing and failover in a minute.
 */
@Command(name = "up", description = {"Start the system: the edge in front of three app instances (a URL shortener) on",
        "PostgreSQL (primary + streaming replica), Redis and ZooKeeper, all embedded; print what runs where and what to try.",
        "--blocks edge alone starts the edge in front of three demo endpoints (127.0.0.1:9001-9003)."})
final class UpCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(UpCommand.class);

    @Spec
    CommandSpec spec;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "0.0.0.0:8080",
            description = "Address of the edge (default: ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--listen-tls", paramLabel = "HOST:PORT|off", defaultValue = "0.0.0.0:8443",
            description = "HTTPS address of the edge, with a local CA made on first start (default: ${DEFAULT-VALUE}).")
    String listenTls;

    @Option(names = "--admin", paramLabel = "HOST:PORT|off", defaultValue = "127.0.0.1:9090",
            description = "Admin listener (default: ${DEFAULT-VALUE}).")
    String admin;

    @Option(names = "--app-ports", paramLabel = "PORT,...", split = ",", defaultValue = "9001,9002,9003",
            description = "Ports of the app instances, one instance per port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    List<Integer> appPorts;

    @Option(names = "--blocks", paramLabel = "BLOCK,...", defaultValue = "edge,app,db,replica,cache,zk",
            description = "Blocks to start (default: ${DEFAULT-VALUE}); e.g. edge,app,db runs without cache and replica.")
    String blocks;

    @Option(names = "--cache-maxmemory", paramLabel = "SIZE", defaultValue = "128mb",
            description = "Redis maxmemory (default: ${DEFAULT-VALUE}).")
    String cacheMaxMemory;

    @Option(names = "--cache-policy", paramLabel = "POLICY", defaultValue = "allkeys-lfu",
            description = "Redis eviction policy: allkeys-lfu, allkeys-lru, volatile-lfu, volatile-lru, allkeys-random, "
                    + "volatile-ttl or noeviction (default: ${DEFAULT-VALUE}).")
    String cachePolicy;

    @Option(names = "--near-cache", paramLabel = "DURATION", defaultValue = "2s", converter = DurationConverter.class,
            description = "Lifetime of an entry in each app instance's in-process cache in front of Redis; 0s turns it off, "
                    + "so every cache hit is a Redis hit (default: ${DEFAULT-VALUE}).")
    java.time.Duration nearCache;

    @Option(names = "--trace-file", paramLabel = "FILE",
            description = "Trace requests through the edge and the app instances (W3C trace context, OpenTelemetry) and write "
                    + "every span to FILE as JSON lines; bench/system-hops.py reads it.")
    java.nio.file.Path traceFile;

    @Option(names = "--trace-sample", paramLabel = "RATIO", defaultValue = "1.0",
            description = "Share of requests traced with --trace-file, 0..1 (default: ${DEFAULT-VALUE}).")
    double traceSample;

    @Option(names = "--app-processes",
            description = "Run each app instance as a child JVM instead of inside this one, so it can be killed for real "
                    + "(kill -9 PID; the banner shows each PID). Stopping up stops them too; if up itself dies, they stop "
                    + "on their own. Not with --trace-file.")
    boolean appProcesses;

    @Option(names = "--print-config", description = "Print the bundled configuration (a starting point for `gatehouse run`) and exit.")
    boolean printConfig;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        if (printConfig) {
            out.print(DemoStack.bundledYaml());
            out.flush();
            return 0;
        }
        java.util.Set<Block> chosen;
        try {
            HostPort.require("--listen", listen);
            if (!"off".equals(admin)) HostPort.require("--admin", admin);
            if (!"off".equals(listenTls)) HostPort.require("--listen-tls", listenTls);
            chosen = Block.parse(blocks);
            if (!java.util.Set.of("allkeys-lfu", "allkeys-lru", "volatile-lfu", "volatile-lru", "allkeys-random",
                    "volatile-ttl", "noeviction").contains(cachePolicy)) {
                throw new IllegalArgumentException("--cache-policy: unknown policy '" + cachePolicy + "'");
            }
            if (appProcesses && traceFile != null) {
                throw new IllegalArgumentException("--app-processes: not with --trace-file (spans are collected inside this process)");
            }
            if (traceSample < 0 || traceSample > 1) throw new IllegalArgumentException("--trace-sample: must be 0..1, got " + traceSample);
            if (!cacheMaxMemory.matches("[0-9]+(b|kb|mb|gb)?")) {
                throw new IllegalArgumentException("--cache-maxmemory: '" + cacheMaxMemory + "' is not a size like 128mb");
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        if (!chosen.equals(java.util.EnumSet.of(Block.EDGE))) return system(chosen, out);
        DemoStack stack;
        try {
            io.gatehouse.tls.LocalAuthority.Files local = "off".equals(listenTls) ? null
                    : io.gatehouse.tls.LocalAuthority.ensure(dataDir());
            stack = DemoStack.start(listen, listenTls, local, admin, DemoStack.DEFAULT_PORTS);
        } catch (java.io.IOException e) {
            spec.commandLine().getErr().println("cannot prepare the local certificate: " + e.getMessage());
            return 1;
        } catch (ConfigException e) {
            // The bundled file is part of the build; this is a bug, not a user error.
            e.problems().forEach(spec.commandLine().getErr()::println);
            return 1;
        }
        out.print(banner(stack));
        out.flush();
        Foreground.runUntilStopped(() -> {
            log.info("stopping: draining for up to {}", stack.config().server().drainTimeout());
            stack.shutdown(stack.config().server().drainTimeout());
            log.info("stopped");
        });
        return 0;
    }

    private Integer system(java.util.Set<Block> chosen, PrintWriter out) throws InterruptedException {
        if (appPorts.isEmpty()) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--app-ports: at least one port");
        for (int p : appPorts) {
            if (p < 0 || p > 65535) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--app-ports: " + p + " is not a port (0-65535)");
            }
        }
        SystemStack stack;
        io.gatehouse.cli.system.TraceFile traces = null;
        try {
            if (traceFile != null) traces = new io.gatehouse.cli.system.TraceFile(traceFile);
            io.gatehouse.tls.LocalAuthority.Files local = "off".equals(listenTls) || !chosen.contains(Block.EDGE) ? null
                    : io.gatehouse.tls.LocalAuthority.ensure(dataDir());
            stack = SystemStack.start(new SystemStack.Options(chosen, listen, listenTls, local, admin, dataDir(),
                    appPorts, cacheMaxMemory, cachePolicy, traces, traceSample, nearCache, appProcesses));
            if (chosen.contains(Block.EDGE)) {
                java.nio.file.Files.writeString(dataDir().resolve("edge.yaml"), stack.edgeYaml());
            }
        } catch (java.io.IOException e) {
            spec.commandLine().getErr().println("cannot start the system: " + e.getMessage());
            return 1;
        } catch (ConfigException e) {
            // The generated edge configuration is ours; a problem in it is a bug, not a user error.
            e.problems().forEach(spec.commandLine().getErr()::println);
            return 1;
        }
        out.print(SystemBanner.render(stack, dataDir(), GatehouseCommand.Version.number()));
        out.flush();
        io.gatehouse.cli.system.TraceFile spans = traces;
        Foreground.runUntilStopped(() -> {
            log.info("stopping the system");
            stack.shutdown(java.time.Duration.ofSeconds(5));
            if (spans != null) {
                try {
                    spans.closeFile();
                } catch (java.io.IOException e) {
                    log.warn("closing the trace file failed", e);
                }
            }
            log.info("stopped");
        });
        return 0;
    }

    /** Where {@code up} keeps its local CA, certificates and database files: {@code $GATEHOUSE_HOME}, else {@code ./.gatehouse}. */
    static java.nio.file.Path dataDir() {
        return io.gatehouse.cli.system.SystemStack.defaultHome();
    }

    /** The friendly "what to try" text, with the addresses actually bound. */
    static String banner(DemoStack stack) {
        String edge = HostPort.reachable(stack.edgeAddress());
        List<DemoEndpoint> endpoints = stack.endpoints();
        DemoEndpoint second = endpoints.get(Math.min(1, endpoints.size() - 1));
        String secondAddress = HostPort.format(second.address());
        StringBuilder sb = new StringBuilder();
        sb.append("\nGatehouse ").append(GatehouseCommand.Version.number()).append(" is up on http://").append(edge)
                .append(", in front of:\n");
        for (DemoEndpoint e : endpoints) {
            sb.append("    ").append(e.name()).append("  http://").append(HostPort.format(e.address())).append('\n');
        }
        sb.append("\nTry it:\n")
                .append("  curl -s ").append(edge).append("/                # a few times: round robin over the three\n")
                .append("  curl -X POST ").append(secondAddress).append("/down   # switch ").append(second.name())
                .append(" off, then curl the edge again: no errors, it is skipped\n")
                .append("  curl -X POST ").append(secondAddress).append("/up     # switch it back on: it rejoins within seconds\n");
        if (stack.tlsAddress() != null) {
            String ca = dataDir().resolve("ca.crt").toAbsolutePath().toString();
            sb.append("  curl --cacert ").append(ca).append(" https://localhost:").append(stack.tlsAddress().getPort())
                    .append("/   # HTTPS, trusting the local CA made for you\n");
        }
        if (stack.config().admin().enabled()) {
            String admin = "http://" + stack.config().admin().address();
            sb.append("  open ").append(admin).append("/dashboard/   # live dashboard: topology, charts, drain buttons\n")
                    .append("  ./gatehouse status --admin ").append(admin).append("   # clusters and endpoints as a table\n")
                    .append("  curl -s ").append(admin).append("/metrics   # Prometheus; the admin API is in docs/admin-api.md\n");
        }
        sb.append("\nThe configuration: gatehouse up --print-config   (serve your own with: gatehouse run FILE.yaml)\n")
                .append("Ctrl-C stops (in-flight requests finish first).\n\n");
        return sb.toString();
    }
}
