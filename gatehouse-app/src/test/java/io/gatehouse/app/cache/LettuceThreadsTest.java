package io.gatehouse.app.cache;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every {@link Redis} of a JVM runs on one set of Lettuce threads with one event loop ({@link LettuceThreads}): the
 * three app instances of {@code gatehouse up} share a wake-up when their commands are due together. The threads
 * outlive any one client and end with the last.
 */
class LettuceThreadsTest {
    /** Not what is tested: long enough that a stall of a busy machine does not fail a command. */
    static final Duration TIMEOUT = Duration.ofSeconds(10);
    static EmbeddedRedis server;

    @BeforeAll
    static void start() throws Exception {
        server = EmbeddedRedis.start(0, "16mb", "allkeys-lru");
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void twoClientsShareOneEventLoopThread() {
        int before = LettuceThreads.users();
        try (Redis a = new Redis(server.uri(), TIMEOUT, Duration.ofMillis(50));
             Redis b = new Redis(server.uri(), TIMEOUT, Duration.ofMillis(50))) {
            assertThat(LettuceThreads.users()).isEqualTo(before + 2);
            assertThat(a.resources()).isSameAs(b.resources());
            assertThat(a.resources().ioThreadPoolSize()).isEqualTo(1);
            // The answers of both clients' commands complete on the same thread: the one event loop.
            Set<String> loops = new HashSet<>(java.util.List.of(completingThread(a), completingThread(b)));
            assertThat(loops).hasSize(1).allMatch(name -> name.startsWith("lettuce-"), "a Lettuce thread");
        }
        assertThat(LettuceThreads.users()).isEqualTo(before);
    }

    /**
     * The name of the thread that completes a command's future on {@code r}'s connection. The callback is attached
     * after the command is sent, so an answer quicker than that runs it on this thread instead: such tries are
     * skipped (in CI one was; a round trip on loopback usually takes longer than attaching a callback).
     */
    private static String completingThread(Redis r) {
        for (int i = 0; i < 100; i++) {
            java.util.concurrent.CompletableFuture<String> name = new java.util.concurrent.CompletableFuture<>();
            r.await("PING", c -> {
                var f = c.ping();
                f.whenComplete((v, e) -> name.complete(Thread.currentThread().getName()));
                return f;
            });
            String on = name.join();
            if (!on.equals(Thread.currentThread().getName())) return on;
        }
        throw new AssertionError("every PING completed before its callback was attached");
    }

    @Test
    void aClientAfterTheLastClosedStartsTheThreadsAgain() {
        int before = LettuceThreads.users();
        Redis first = new Redis(server.uri(), TIMEOUT, Duration.ofMillis(50));
        var firstThreads = first.resources();
        first.close();
        first.close(); // a second close releases nothing more
        assertThat(LettuceThreads.users()).isEqualTo(before);
        try (Redis second = new Redis(server.uri(), TIMEOUT, Duration.ofMillis(50))) {
            if (before == 0) assertThat(second.resources()).isNotSameAs(firstThreads); // the old ones were shut down
            second.call("SET", c -> c.set("lettuce-threads:k", "v"));
            assertThat(second.<String>await("GET", c -> c.get("lettuce-threads:k"))).isEqualTo("v");
        }
    }
}
