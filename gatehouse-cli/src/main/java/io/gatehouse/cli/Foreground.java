package io.gatehouse.cli;

import java.util.concurrent.CountDownLatch;

/** Keeps a serving command in the foreground until Ctrl-C or SIGTERM, then stops it gracefully. */
final class Foreground {
    private Foreground() {}

    /**
     * Blocks until the JVM is asked to exit (SIGINT, SIGTERM, {@code System.exit}); {@code onStop} runs in a shutdown
     * hook, so a plain {@code kill} drains in-flight requests instead of cutting them off.
     */
    static void runUntilStopped(Runnable onStop) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                onStop.run();
            } finally {
                stopped.countDown();
            }
        }, "gatehouse-shutdown"));
        stopped.await();
    }
}
