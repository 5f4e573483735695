package io.gatehouse.app.links;

import io.gatehouse.app.App;
import io.gatehouse.app.Engines;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;

/** Write-through for links: reads right after a create or an update are cache hits, never database reads. */
@ExtendWith(Engines.class)
class WriteThroughTest {
    static App app;

    @BeforeAll
    static void start() {
        app = App.start(Engines.config("write-through").withWriteThrough(true));
    }

    @AfterAll
    static void stop() {
        app.close();
    }

    @Test
    void theFirstReadAfterAWriteIsAHit() {
        long before = app.links().store().lookups();
        Link link = app.links().create("wt-owner", "https://example.com/wt1", null, null, false).value();
        assertThat(app.links().resolve(link.code(), null).target()).isEqualTo("https://example.com/wt1");
        app.links().updateTarget("wt-owner", link.code(), "https://example.com/wt2");
        assertThat(app.links().resolve(link.code(), null).target()).isEqualTo("https://example.com/wt2");
        assertThat(app.links().store().lookups()).isEqualTo(before); // the database was never asked

        // An older version can still not overwrite it.
        Redirect stale = new Redirect(link.code(), "https://example.com/wt1", false, null, link.version());
        assertThat(app.links().cache().putFound(stale, 1)).isEqualTo(LinkCache.Fill.REFUSED);
        assertThat(app.meters().scrape()).contains("app_cache_redis_evicted_keys");
    }
}
