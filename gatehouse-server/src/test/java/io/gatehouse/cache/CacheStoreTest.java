package io.gatehouse.cache;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class CacheStoreTest {
    static CachedResponse entry(String url, int bodySize, String... tags) {
        return new CachedResponse(200, new DefaultHttpHeaders().add("cache-control", "max-age=60"), new byte[bodySize],
                0, 0, url, List.of(), "", Set.of(tags), CachePolicy.STANDARD);
    }

    @Test
    void boundedInBytesCountingBodyHeadersAndOverhead() {
        CacheStore store = new CacheStore(1 << 20);
        for (int i = 0; i < 200; i++) store.put("k" + i, entry("http://h/" + i, 16 * 1024));
        store.cleanUp();
        assertThat(store.bytes()).isLessThanOrEqualTo(1 << 20);
        assertThat(store.count()).isLessThan(200).isGreaterThan(10);
        assertThat(store.evictions()).isGreaterThan(0);
        CachedResponse one = entry("http://h/x", 1024);
        // 1 KiB of body costs its bytes, the header strings, and the documented overhead
        assertThat(one.weight()).isBetween(1024 + CachedResponse.OVERHEAD, 1024 + CachedResponse.OVERHEAD + 200);
    }

    @Test
    void purgesByUrlPrefixAndTagHardOrSoft() {
        CacheStore store = new CacheStore(1 << 24);
        store.put("p1", entry("http://h/a/1", 10, "t1"));
        store.put("p2", entry("http://h/a/2", 10, "t2"));
        store.put("p3", entry("http://h/b/3", 10, "t1", "t3"));
        assertThat(store.purgeUrl("http://h/a/1", false)).isEqualTo(1);
        assertThat(store.get("p1", "")).isNull();
        assertThat(store.purgePrefix("http://h/a/", true)).isEqualTo(1);
        assertThat(store.get("p2", "").invalidated()).isTrue();
        assertThat(store.purgeTag("t3", false)).isEqualTo(1);
        assertThat(store.get("p3", "")).isNull();
        assertThat(store.purgeUrl("http://h/b/3", false)).isZero();
    }
}
