package io.gatehouse.files;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The few threads that make the blocking file-system calls (open, stat, read) for every {@code files} route, so a
 * slow disk stalls them and never an event loop. Shared by all routes and kept across reloads (daemon threads); a
 * full queue is a 503 for the request, not an unbounded backlog.
 */
final class FileSystemThreads {
    static final int THREADS = Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors()));
    static final int QUEUE = 4096;

    private static final ThreadPoolExecutor POOL;

    static {
        AtomicInteger n = new AtomicInteger();
        POOL = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), r -> {
            Thread t = new Thread(r, "gatehouse-files-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        POOL.allowCoreThreadTimeOut(true);
    }

    private FileSystemThreads() {}

    /** @throws java.util.concurrent.RejectedExecutionException when the queue is full */
    static void execute(Runnable task) {
        POOL.execute(task);
    }
}
