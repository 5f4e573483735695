package io.gatehouse.cli;

import sun.misc.Signal;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/** Keeps a serving command in the foreground until Ctrl-C or SIGTERM, then stops it gracefully. */
final class Foreground {
    private Foreground() {}

    /**
     * Blocks until SIGTERM or SIGINT (or {@code System.exit}) and runs {@code onStop} once, so a plain {@code kill}
     * drains in-flight requests instead of cutting them off. The two signals are caught here rather than left to the
     * JVM: a JVM stopped by a signal exits with 128 + its number (143) even after a clean drain, which service
     * managers report as a failure; caught, the command returns and the process exits 0.
     */
    static void runUntilStopped(Runnable onStop) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean stopping = new AtomicBoolean();
        Runnable stop = () -> {
            if (!stopping.compareAndSet(false, true)) {
                awaitQuietly(stopped);   // already stopping: let that drain finish before the JVM halts
                return;
            }
            try {
                onStop.run();
            } finally {
                stopped.countDown();
            }
        };
        for (String name : List.of("TERM", "INT")) {
            try {
                Signal.handle(new Signal(name), signal -> stop.run());
            } catch (IllegalArgumentException e) {
                // not on this platform: the shutdown hook below still drains
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(stop, "gatehouse-shutdown"));
        stopped.await();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
