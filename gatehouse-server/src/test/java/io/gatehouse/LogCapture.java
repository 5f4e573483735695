package io.gatehouse;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * What some loggers log during a test, at {@code level} and above for each of them. {@link #close()} detaches the
 * capture and gives the loggers their levels back.
 */
public final class LogCapture implements AutoCloseable {
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final List<Logger> loggers = new ArrayList<>();
    private final List<Level> levels = new ArrayList<>();

    private LogCapture() {
        appender.start();
    }

    /** Captures the loggers {@code names} (class names, usually), each set to log from {@code level} up meanwhile. */
    public static LogCapture of(Level level, String... names) {
        LogCapture c = new LogCapture();
        for (String name : names) {
            Logger logger = (Logger) LoggerFactory.getLogger(name);
            c.loggers.add(logger);
            c.levels.add(logger.getLevel());
            logger.setLevel(level);
            logger.addAppender(c.appender);
        }
        return c;
    }

    /** The events so far (a copy: the loggers may still be writing from other threads). */
    public List<ILoggingEvent> events() {
        synchronized (appender) {
            return List.copyOf(appender.list);
        }
    }

    /** Whether a captured message contains every one of {@code parts}. */
    public boolean logged(String... parts) {
        return events().stream().anyMatch(e -> {
            String m = e.getFormattedMessage();
            for (String p : parts) if (!m.contains(p)) return false;
            return true;
        });
    }

    @Override
    public void close() {
        for (int i = 0; i < loggers.size(); i++) {
            loggers.get(i).detachAppender(appender);
            loggers.get(i).setLevel(levels.get(i));
        }
    }
}
