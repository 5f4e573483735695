package io.gatehouse.cli;

import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.ListenerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code gatehouse validate FILE...}: checks configuration files without starting anything. */
@Command(name = "validate", description = "Check configuration files; print every problem as file:line:col: path: message.",
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:every file is valid", "1:some file has problems"})
final class ValidateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "YAML configuration files.")
    List<Path> files;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int status = 0;
        for (Path file : files) {
            try {
                out.println(file + ": ok (" + summary(ConfigLoader.load(file)) + ")");
            } catch (ConfigException e) {
                e.problems().forEach(err::println);
                status = 1;
            }
        }
        out.flush();
        err.flush();
        return status;
    }

    /** {@code 1 listener, 2 routes, 1 cluster}. */
    static String summary(GatehouseConfig config) {
        int routes = config.listeners().stream().map(ListenerConfig::routes).mapToInt(List::size).sum();
        return count(config.listeners().size(), "listener") + ", " + count(routes, "route") + ", "
                + count(config.clusters().size(), "cluster");
    }

    private static String count(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }
}
