package io.gatehouse.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class TextLoggingTest {
    private static final ClassLoader NO_RESOURCES = new URLClassLoader(new URL[0], null);

    @Test
    void setsUpOneTextLinePerEventOnStdoutWithNettyAtWarn() {
        LoggerContext context = new LoggerContext();
        assertThat(new TextLogging().configure(context, NO_RESOURCES, null)).isEqualTo(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);

        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        assertThat(root.getLevel()).isEqualTo(Level.INFO);
        assertThat(context.getLogger("io.netty").getLevel()).isEqualTo(Level.WARN);
        assertThat(context.getLogger("io.netty.channel").isInfoEnabled()).isFalse();
        var appender = (ConsoleAppender<?>) root.getAppender("STDOUT");
        assertThat(appender.isStarted()).isTrue();
        assertThat(appender.getTarget()).isEqualTo("System.out");

        // the line the removed logback.xml wrote: UTC ISO timestamp, level padded to 5, the message
        var encoder = (PatternLayoutEncoder) appender.getEncoder();
        LoggingEvent event = new LoggingEvent("x", context.getLogger("io.gatehouse.Gatehouse"), Level.INFO, "gatehouse started", null, null);
        event.setTimeStamp(1_796_000_000_123L);
        assertThat(new String(encoder.encode(event), StandardCharsets.UTF_8))
                .isEqualTo("2026-11-30T00:53:20.123Z INFO  gatehouse started" + System.lineSeparator());
    }

    @Test
    void anExplicitConfigurationFileOrALogbackTestXmlWins() {
        LoggerContext context = new LoggerContext();
        assertThat(new TextLogging().configure(context, NO_RESOURCES, "/etc/gatehouse/logback.xml"))
                .isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
        // this module's tests have a logback-test.xml on the class path
        assertThat(new TextLogging().configure(context, TextLoggingTest.class.getClassLoader(), null))
                .isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
        assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext()).isFalse();
    }
}
