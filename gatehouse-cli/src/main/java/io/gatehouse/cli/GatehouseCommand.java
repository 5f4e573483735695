package io.gatehouse.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.Properties;

/** {@code gatehouse}: the command line of the edge server. */
@Command(name = "gatehouse",
        mixinStandardHelpOptions = true,
        versionProvider = GatehouseCommand.Version.class,
        description = "A Netty edge server: reverse proxy and L7 load balancer.",
        subcommands = {UpCommand.class, io.gatehouse.cli.system.LoadCommand.class, io.gatehouse.cli.system.DbCommand.class,
                RunCommand.class, ValidateCommand.class, ProxyCommand.class, StatusCommand.class, KeysCommand.class, ConsumersCommand.class,
                VersionCommand.class, CommandLine.HelpCommand.class})
public final class GatehouseCommand {

    public enum LogFormat { text, json }

    @Option(names = "--log-format", scope = ScopeType.INHERIT, paramLabel = "text|json",
            description = "Log lines as text (default) or one JSON object per event.")
    void logFormat(LogFormat format) {
        logFormatOption = true;
        if (format == LogFormat.json) {
            useLogbackConfig("/logback-json.xml");
        }
    }

    private static volatile boolean logFormatOption;

    /** Applies the configuration's {@code logging.format} unless {@code --log-format} was given (the option wins). */
    static void applyConfiguredLogFormat(io.gatehouse.config.LogFormat format) {
        if (!logFormatOption && format == io.gatehouse.config.LogFormat.JSON) useLogbackConfig("/logback-json.xml");
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, shared by {@link #main} and tests. */
    public static CommandLine commandLine() {
        return new CommandLine(new GatehouseCommand())
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    // Expected failures (a port in use, a bad option value) read better as one line than a trace.
                    cmd.getErr().println("gatehouse: " + e.getMessage());
                    if (e.getCause() != null && System.getenv("GATEHOUSE_DEBUG") != null) e.printStackTrace(cmd.getErr());
                    return 1;
                });
    }

    private static void useLogbackConfig(String resource) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) return;
        URL url = GatehouseCommand.class.getResource(resource);
        context.reset();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        try {
            configurator.doConfigure(url);
        } catch (JoranException e) {
            throw new IllegalStateException("cannot configure logging from " + resource, e);
        }
    }

    /** The version from {@code version.properties}, which Maven fills in at build time. */
    public static final class Version implements CommandLine.IVersionProvider {
        public static String number() {
            Properties properties = new Properties();
            try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
                if (in != null) properties.load(in);
            } catch (IOException e) {
                return "unknown";
            }
            return properties.getProperty("version", "unknown");
        }

        public static String line() {
            return "gatehouse " + number() + " (Java " + Runtime.version() + ", "
                    + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ")";
        }

        @Override
        public String[] getVersion() {
            return new String[] {line()};
        }
    }
}
