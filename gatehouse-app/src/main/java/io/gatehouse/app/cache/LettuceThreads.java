package io.gatehouse.app.cache;

import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.DefaultEventLoopGroupProvider;

import java.util.concurrent.TimeUnit;

/**
 * The Lettuce threads of this JVM: one I/O event loop (and the two computation threads Lettuce keeps at least),
 * shared by every {@link Redis} in it, and shut down when the last one closes.
 *
 * <p>Why shared, and why one. Lettuce's default is a set of threads per client (two event loops and two computation
 * threads when the JVM sees one or two cores). A {@link Redis} has one command connection and one pub/sub
 * connection, each bound to one event loop, so one loop is all it can use. {@code gatehouse up} runs three app
 * instances in one JVM: with their own sets, three loops each woke twice per command (hand the write over, then the
 * answer). On one loop, commands of the three instances that are due together share a wake-up, and the JVM has
 * fewer threads to schedule on the core the requests need (measured in bench/results/2026-12-08-system-p99.md). A
 * standalone instance has one {@link Redis} anyway, so for it this is Lettuce's default cut to what it uses.
 */
final class LettuceThreads {
    private static ClientResources shared; // guarded by LettuceThreads.class
    private static DefaultEventLoopGroupProvider loops; // guarded by LettuceThreads.class
    private static int users;              // guarded by LettuceThreads.class

    private LettuceThreads() {}

    static synchronized ClientResources acquire() {
        if (users++ == 0) {
            // Through a provider of our own: the builder's ioThreadPoolSize (and computationThreadPoolSize) raise
            // anything under 2 to 2.
            loops = new DefaultEventLoopGroupProvider(1);
            shared = DefaultClientResources.builder().eventLoopGroupProvider(loops).build();
        }
        return shared;
    }

    /** The last user shuts the threads down; the next {@link #acquire} starts new ones. */
    static synchronized void release() {
        if (users == 0) throw new IllegalStateException("released more often than acquired");
        if (--users == 0) {
            shared.shutdown(0, 1, TimeUnit.SECONDS);
            loops.shutdown(0, 1, TimeUnit.SECONDS); // a provider given to the builder is ours to shut down
            shared = null;
            loops = null;
        }
    }

    /** How many {@link Redis} use the threads now (tests). */
    static synchronized int users() {
        return users;
    }
}
