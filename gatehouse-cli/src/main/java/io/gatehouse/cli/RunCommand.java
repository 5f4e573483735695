package io.gatehouse.cli;

import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import io.netty.util.concurrent.Ticker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code gatehouse run FILE}: serves a configuration file in the foreground; SIGHUP reloads it. */
@Command(name = "run", description = {"Serve a configuration file in the foreground.",
        "SIGHUP reloads the file (a broken file is reported and the old configuration keeps serving);",
        "SIGTERM or Ctrl-C stops accepting, drains in-flight requests (server.drain_timeout) and exits."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:stopped by a signal", "1:could not start (e.g. a port is in use)", "2:the file has problems"})
final class RunCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "YAML configuration file.")
    Path file;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        GatehouseConfig current;
        try {
            current = ConfigLoader.load(file);
        } catch (ConfigException e) {
            e.problems().forEach(err::println);
            err.flush();
            return 2;
        }
        GatehouseCommand.applyConfiguredLogFormat(current.logging().format());
        Gatehouse gatehouse = Gatehouse.start(current, Ticker.systemTicker(), file);
        log.info("gatehouse {} serving {} ({})", GatehouseCommand.Version.number(), file,
                ValidateCommand.summary(current));
        current.listeners().forEach(l -> log.info("listener {} on {}", l.name(), HostPort.format(gatehouse.listenerAddress(l.name()))));
        reloadOnHangup(gatehouse);
        Foreground.runUntilStopped(() -> {
            Duration drain = gatehouse.config().server().drainTimeout();
            log.info("stopping: draining for up to {}", drain);
            gatehouse.shutdown(drain);
            log.info("stopped");
        });
        return 0;
    }

    private void reloadOnHangup(Gatehouse gatehouse) {
        try {
            // sun.misc.Signal (module jdk.unsupported) is the only JDK way to catch SIGHUP; it is stable on 21 and 25.
            // The reload itself is Gatehouse's, shared with POST /reload and server.watch_config; it logs the outcome.
            SignalHandler previous = Signal.handle(new Signal("HUP"), signal -> gatehouse.reloadFromFileAsync("signal"));
            // The JVM keeps a signal that was ignored when it started (nohup) ignored, and says so only this way.
            if (previous == SignalHandler.SIG_IGN) {
                log.warn("SIGHUP is ignored by this process (started under nohup?): reload with POST /reload or server.watch_config");
            }
        } catch (IllegalArgumentException e) {
            log.warn("SIGHUP is not available on this platform: reload by restarting");
        }
    }
}
