package io.gatehouse.cache;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The disk tier's files, index, checksum, eviction and purge, on a real directory. */
class DiskStoreTest {
    @TempDir
    Path dir;

    static CachedResponse entry(String url, int bodySize, String... tags) {
        byte[] body = new byte[bodySize];
        for (int i = 0; i < body.length; i++) body[i] = (byte) (i * 31);
        return new CachedResponse(200, new DefaultHttpHeaders().add("cache-control", "max-age=60").add("etag", "\"v1\""),
                body, 1000, 2000, url, List.of("accept-encoding"), "accept-encoding=gzip\n", Set.of(tags), CachePolicy.STANDARD);
    }

    List<Path> files() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(f -> f.toString().endsWith(".obj")).toList();
        }
    }

    CachedResponse read(DiskStore d, String key) throws Exception {
        return d.read(key, CachePolicy.STANDARD).get(10, TimeUnit.SECONDS);
    }

    @Test
    void aStoredResponseComesBackWholeAfterARestart() throws Exception {
        DiskStore d = new DiskStore(dir, 1 << 20);
        d.write("k1\0v", entry("http://h/a", 5000, "t1"));
        await().atMost(Duration.ofSeconds(10)).until(() -> d.contains("k1\0v"));
        d.close();

        DiskStore again = new DiskStore(dir, 1 << 20);
        assertThat(again.contains("k1\0v")).isTrue();
        assertThat(again.varyOf("k1")).containsExactly("accept-encoding");
        CachedResponse r = read(again, "k1\0v");
        CachedResponse original = entry("http://h/a", 5000, "t1");
        assertThat(r.body()).isEqualTo(original.body());
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.etag()).isEqualTo("\"v1\"");
        assertThat(r.requestTime()).isEqualTo(1000);
        assertThat(r.responseTime()).isEqualTo(2000);
        assertThat(r.url()).isEqualTo("http://h/a");
        assertThat(r.tags()).containsExactly("t1");
        assertThat(r.varyValues()).isEqualTo("accept-encoding=gzip\n");
        assertThat(again.hits()).isEqualTo(1);
        again.close();
    }

    List<Path> temps() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(f -> f.toString().endsWith(".tmp")).toList();
        }
    }

    @Test
    void aResponseWrittenAsItArrivesGoesToItsTmpFileThenIsRenamedWholeAndReadsBack() throws Exception {
        DiskStore d = new DiskStore(dir, 8 << 20);
        CachedResponse whole = entry("http://h/streamed", 300_000, "t");
        byte[] body = whole.body();
        DiskStore.Writer w = d.begin("ks\0accept-encoding=gzip\n");
        // the buffer grows by copying into larger arrays, as the fetch's does; the bytes given never change
        byte[] buffer = new byte[1024];
        int length = 0;
        for (int piece = 7_000; length < body.length; ) {
            int n = Math.min(piece, body.length - length);
            if (length + n > buffer.length) buffer = java.util.Arrays.copyOf(buffer, Math.max(buffer.length * 2, length + n));
            System.arraycopy(body, length, buffer, length, n);
            length += n;
            w.append(buffer, length);
            if (length == 140_000) {
                // part of the body is on disk under the temporary name, nothing under the object's
                await().atMost(Duration.ofSeconds(10)).until(() -> !temps().isEmpty() && Files.size(temps().get(0)) >= 100_000);
                assertThat(files()).isEmpty();
                assertThat(d.contains("ks\0accept-encoding=gzip\n")).isFalse();
            }
        }
        w.finish(whole);
        await().atMost(Duration.ofSeconds(10)).until(() -> d.contains("ks\0accept-encoding=gzip\n"));
        assertThat(temps()).isEmpty();
        assertThat(files()).hasSize(1);
        d.close();
        DiskStore again = new DiskStore(dir, 8 << 20);   // the header and checksum appended at the end index and verify
        CachedResponse r = read(again, "ks\0accept-encoding=gzip\n");
        assertThat(r).isNotNull();
        assertThat(r.body()).isEqualTo(body);
        assertThat(r.tags()).containsExactly("t");
        assertThat(again.corrupt()).isZero();
        again.close();
    }

    @Test
    void anAbandonedStreamedWriteLeavesNoTmpFileAndNoObject() throws Exception {
        DiskStore d = new DiskStore(dir, 8 << 20);
        byte[] part = new byte[50_000];
        DiskStore.Writer w = d.begin("gone\0");
        w.append(part, part.length);
        await().atMost(Duration.ofSeconds(10)).until(() -> !temps().isEmpty() && Files.size(temps().get(0)) > 0);
        w.abandon();
        await().atMost(Duration.ofSeconds(10)).until(() -> temps().isEmpty());
        assertThat(files()).isEmpty();
        assertThat(d.contains("gone\0")).isFalse();
        d.close();
    }

    @Test
    void aFlippedByteIsAMissTheFileIsDeletedAndCounted() throws Exception {
        DiskStore d = new DiskStore(dir, 1 << 20);
        d.write("k\0", entry("http://h/a", 3000));
        await().atMost(Duration.ofSeconds(10)).until(() -> d.contains("k\0"));
        Path f = files().get(0);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.seek(raf.length() - 100);
            int b = raf.read();
            raf.seek(raf.length() - 100);
            raf.write(b ^ 0x40);
        }
        assertThat(read(d, "k\0")).isNull();
        assertThat(d.corrupt()).isEqualTo(1);
        assertThat(d.contains("k\0")).isFalse();
        assertThat(f).doesNotExist();
        d.close();
    }

    @Test
    void boundedInBytesTheLeastRecentlyUsedGoFirst() throws Exception {
        DiskStore d = new DiskStore(dir, 50_000);
        for (int i = 0; i < 4; i++) {
            String key = "k" + i + "\0";
            d.write(key, entry("http://h/" + i, 10_000));
            await().atMost(Duration.ofSeconds(10)).until(() -> d.contains(key));
        }
        assertThat(read(d, "k0\0")).isNotNull();   // used: now the most recent
        for (int i = 4; i < 6; i++) {
            String key = "k" + i + "\0";
            d.write(key, entry("http://h/" + i, 10_000));
            await().atMost(Duration.ofSeconds(10)).until(() -> d.contains(key));
        }
        assertThat(d.bytes()).isLessThanOrEqualTo(50_000);
        assertThat(d.evictions()).isGreaterThan(0);
        assertThat(d.contains("k0\0")).isTrue();
        assertThat(d.contains("k1\0")).isFalse();
        assertThat(d.contains("k2\0")).isFalse();
        assertThat(d.contains("k5\0")).isTrue();
        assertThat(files()).hasSize((int) d.count());
        d.close();
    }

    @Test
    void purgesByUrlPrefixAndTagSoftSurvivesARestart() throws Exception {
        DiskStore d = new DiskStore(dir, 1 << 20);
        d.write("a\0", entry("http://h/a/1", 10, "t1"));
        d.write("b\0", entry("http://h/a/2", 10, "t2"));
        d.write("c\0", entry("http://h/b/3", 10, "t3"));
        await().atMost(Duration.ofSeconds(10)).until(() -> d.count() == 3);
        assertThat(d.purgeUrl("http://h/a/1", false)).containsExactly("a\0");
        assertThat(d.purgeTag("t3", true)).containsExactly("c\0");
        assertThat(d.purgePrefix("http://h/a/", false)).containsExactly("b\0");
        assertThat(d.contains("a\0")).isFalse();
        assertThat(read(d, "c\0").invalidated()).isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> files().size() == 1);
        d.close();
        DiskStore again = new DiskStore(dir, 1 << 20);
        assertThat(again.count()).isEqualTo(1);
        assertThat(read(again, "c\0").invalidated()).isTrue();
        again.close();
    }

    @Test
    void aPurgeBeforeTheWriteLandsCancelsIt() throws Exception {
        DiskStore d = new DiskStore(dir, 1 << 20);
        // many writes queue up; purging their URL at once leaves none of them behind
        for (int i = 0; i < 50; i++) d.write("k" + i + "\0", entry("http://h/same", 20_000));
        d.purgeUrl("http://h/same", false);
        d.write("done\0", entry("http://h/other", 10));
        await().atMost(Duration.ofSeconds(10)).until(() -> d.contains("done\0"));
        await().atMost(Duration.ofSeconds(10)).until(() -> files().size() == 1);
        assertThat(d.count()).isEqualTo(1);
        d.close();
    }
}
