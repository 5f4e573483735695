package io.gatehouse.redis;

import io.gatehouse.config.RedisConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@link SharedHash}, the copy of a shared hash (the deny list, runtime consumers) each edge keeps, two copies on a
 * real Redis as two edges hold them: a change written through one is read by the other on its next poll, with no
 * test waiting on the 200 ms schedule ({@link SharedHash#refresh()} runs one poll now); the writer's own copy has it
 * at once; the conditional writes refuse what they say without moving the version. The edge tests (DenyTest,
 * RuntimeConsumersTest) then only wait, with room for a loaded machine, for what this shows to happen.
 */
class SharedHashTest {
    private static final String KEY = "gatehouse:test:shared";
    private static SharedRedis redis;

    @BeforeAll
    static void start() throws Exception {
        redis = new SharedRedis();
    }

    @AfterAll
    static void stop() throws Exception {
        redis.close();
    }

    private static RedisConfig config() {
        return new RedisConfig(redis.address(), null, Duration.ofSeconds(5));
    }

    /** Two copies of the hash on clients of their own, as two edges hold them. */
    private record TwoCopies(Redis ra, Redis rb, SharedHash a, SharedHash b) implements AutoCloseable {
        /** Opened once both have read the hash (their connections are up): what follows is one poll each. */
        static TwoCopies open() {
            Redis ra = new Redis(config()), rb = new Redis(config());
            TwoCopies c = new TwoCopies(ra, rb, new SharedHash(ra, KEY), new SharedHash(rb, KEY));
            try {
                for (SharedHash h : List.of(c.a, c.b)) await().atMost(Duration.ofSeconds(10)).until(() -> h.snapshot().version() >= 0);
            } catch (RuntimeException | Error e) {
                c.close();
                throw e;
            }
            return c;
        }

        @Override
        public void close() {
            a.close();
            b.close();
            ra.close();
            rb.close();
        }
    }

    @Test
    void aChangeThroughOneCopyIsReadByTheOtherOnItsNextPoll() throws Exception {
        redis.flush();
        try (TwoCopies copies = TwoCopies.open()) {
            SharedHash a = copies.a(), b = copies.b();
            long before = b.refresh().get(10, SECONDS).version();

            assertThat(a.put("k", "v1").get(10, SECONDS)).isTrue();
            assertThat(a.snapshot().entries()).as("the writer's own copy, at once").containsEntry("k", "v1");
            SharedHash.Snapshot next = b.refresh().get(10, SECONDS);
            assertThat(next.version()).isGreaterThan(before);
            assertThat(next.entries()).containsEntry("k", "v1");

            // conditional writes that do not hold are refused and leave the version where it was
            long version = next.version();
            assertThat(b.add("k", "other").get(10, SECONDS)).as("add over an existing field").isFalse();
            assertThat(b.replace("k", "not-v1", "v2").get(10, SECONDS)).as("replace with a stale expected value").isFalse();
            assertThat(b.remove("absent").get(10, SECONDS)).as("remove of a field that is not there").isFalse();
            assertThat(a.refresh().get(10, SECONDS).version()).isEqualTo(version);
            assertThat(a.snapshot().entries()).containsEntry("k", "v1");

            // ... and applied when they hold, each read by the other copy on its next poll
            assertThat(b.replace("k", "v1", "v2").get(10, SECONDS)).isTrue();
            assertThat(a.refresh().get(10, SECONDS).entries()).containsEntry("k", "v2");
            assertThat(b.remove("k").get(10, SECONDS)).isTrue();
            assertThat(a.refresh().get(10, SECONDS).entries()).doesNotContainKey("k");
        }
    }

    @Test
    void aCopyThatNeverWritesFollowsByItsOwnPolls() throws Exception {
        redis.flush();
        try (TwoCopies copies = TwoCopies.open()) {
            SharedHash a = copies.a(), b = copies.b();
            assertThat(a.put("only-through-a", "x").get(10, SECONDS)).isTrue();
            // no refresh on b: only its scheduled poll can bring the change
            await().atMost(SharedRedis.REACHES_OTHER_EDGE).until(() -> b.snapshot().entries().containsKey("only-through-a"));
            assertThat(b.snapshot().version()).isEqualTo(a.snapshot().version());
        }
    }
}
