package io.gatehouse.app.links;

import io.gatehouse.app.App;
import io.gatehouse.app.Engines;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Each instance's Caffeine near cache follows changes made on another instance, via Redis pub/sub. */
@ExtendWith(Engines.class)
class NearCacheCoherenceTest {
    static App one, two;

    @BeforeAll
    static void start() {
        // A near-cache TTL far longer than the test: only an invalidation message can make instance 2 see the change.
        one = App.start(Engines.config("near-1").withNearCacheTtl(Duration.ofMinutes(10)));
        two = App.start(Engines.config("near-2").withNearCacheTtl(Duration.ofMinutes(10)));
    }

    @AfterAll
    static void stop() {
        one.close();
        two.close();
    }

    @Test
    void anUpdateOnInstanceOneIsNotServedStaleByInstanceTwo() {
        Link link = one.links().create("near-owner", "https://example.com/before", null, null, false).value();
        assertThat(two.links().resolve(link.code(), null).target()).isEqualTo("https://example.com/before");
        assertThat(two.links().cache().nearHas(link.code())).isTrue(); // instance 2 now answers from its own memory

        one.links().updateTarget("near-owner", link.code(), "https://example.com/after");

        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
                .until(() -> !two.links().cache().nearHas(link.code()));
        assertThat(two.links().resolve(link.code(), null).target()).isEqualTo("https://example.com/after");
    }

    @Test
    void aDeleteOnInstanceOneIsSeenByInstanceTwo() {
        Link link = one.links().create("near-owner", "https://example.com/del", null, null, false).value();
        assertThat(two.links().resolve(link.code(), null)).isNotNull();
        one.links().delete("near-owner", link.code());
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
                .until(() -> two.links().resolve(link.code(), null) == null);
    }
}
