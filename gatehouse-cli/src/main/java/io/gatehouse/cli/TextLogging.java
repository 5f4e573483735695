package io.gatehouse.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.Logger;

/**
 * The default logging (one human-readable line per event on stdout, Netty only when something is wrong), set up in
 * code. A logback.xml would be read by Joran and the JDK's XML parser: about 600 classes loaded at every start, some
 * 3 MiB of class metadata that stay resident for nothing (bench/results/2026-12-06-base-rss.md). An explicit
 * {@code -Dlogback.configurationFile} or a {@code logback-test.xml} on the class path still wins; the json log format
 * still loads {@code logback-json.xml}, once asked for.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_NORMAL_PRIORITY)
public final class TextLogging extends ContextAwareBase implements Configurator {

    static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSS'Z',UTC} %-5level %msg%n";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        return configure(context, TextLogging.class.getClassLoader(), System.getProperty("logback.configurationFile"));
    }

    ExecutionStatus configure(LoggerContext context, ClassLoader classes, String configurationFile) {
        if (configurationFile != null || classes.getResource("logback-test.xml") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;   // logback's own configurators read the file
        }
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        ConsoleAppender<ILoggingEvent> stdout = new ConsoleAppender<>();
        stdout.setContext(context);
        stdout.setName("STDOUT");
        stdout.setEncoder(encoder);
        stdout.start();
        context.getLogger("io.netty").setLevel(Level.WARN);
        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(stdout);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
