package io.gatehouse.files;

import io.gatehouse.http.ByteRanges;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The pure rules under the files action: path checks, byte ranges, Accept-Encoding, content types. */
class FileRulesTest {
    @Test
    void pathsAreDecodedOnceAndRefusedWhenTheyCouldLeaveTheRoot() throws Exception {
        assertThat(RequestPaths.parse("/a/b%20c.txt").names()).containsExactly("a", "b c.txt");
        assertThat(RequestPaths.parse("/caf%C3%A9/").directoryForm()).isTrue();
        assertThat(RequestPaths.parse("//a///b").names()).containsExactly("a", "b");
        assertThat(RequestPaths.parse("/.well-known/security.txt").names()).containsExactly(".well-known", "security.txt");
        assertThat(RequestPaths.parse("/%252e%252e/x").names()).as("decoded once: %252e is the name %2e").containsExactly("%2e%2e", "x");
        for (String bad : List.of("/..", "/a/../b", "/%2e%2e/x", "/%2E./x", "/.", "/a%2fb", "/a%5cb", "/a%00", "/a%0a",
                "/%", "/%zz", "/%c0%ae%c0%ae", "a/b")) {
            assertThatThrownBy(() -> RequestPaths.parse(bad)).as(bad).isInstanceOfSatisfying(RequestPaths.Refused.class,
                    e -> assertThat(e.badRequest).isTrue());
        }
        assertThatThrownBy(() -> RequestPaths.parse("/.git/config")).isInstanceOfSatisfying(RequestPaths.Refused.class,
                e -> assertThat(e.badRequest).as("hidden: 404").isFalse());
    }

    @Test
    void rangesFollowRfc9110() {
        assertThat(ByteRanges.parse("bytes=0-4", 10)).containsExactly(new long[]{0, 4});
        assertThat(ByteRanges.parse("bytes=5-", 10)).containsExactly(new long[]{5, 9});
        assertThat(ByteRanges.parse("bytes=-3", 10)).containsExactly(new long[]{7, 9});
        assertThat(ByteRanges.parse("bytes=-30", 10)).containsExactly(new long[]{0, 9});
        assertThat(ByteRanges.parse("bytes=8-100", 10)).containsExactly(new long[]{8, 9});
        assertThat(ByteRanges.parse("bytes=0-1,4-5", 10)).hasSize(2);
        assertThat(ByteRanges.parse("bytes=10-", 10)).as("unsatisfiable: 416").isEmpty();
        assertThat(ByteRanges.parse("bytes=5-2", 10)).as("invalid: ignored").isNull();
        assertThat(ByteRanges.parse("items=0-1", 10)).isNull();
        assertThat(ByteRanges.parse("bytes=0-5,3-8", 10)).as("overlapping: the whole").isNull();
        assertThat(ByteRanges.parse("bytes=" + "0-0,".repeat(17), 10)).as("too many").isNull();
    }

    @Test
    void acceptEncodingHonoursQualityAndStar() {
        assertThat(FileServer.accepts("gzip, deflate, br", "br")).isTrue();
        assertThat(FileServer.accepts("gzip;q=0.5, br;q=0", "br")).isFalse();
        assertThat(FileServer.accepts("*", "gzip")).isTrue();
        assertThat(FileServer.accepts("*, gzip;q=0", "gzip")).isFalse();
        assertThat(FileServer.accepts("identity", "gzip")).isFalse();
        assertThat(FileServer.accepts(null, "gzip")).isFalse();
    }

    @Test
    void typesByExtension() {
        assertThat(ContentTypes.of("a.HTML")).isEqualTo("text/html; charset=utf-8");
        assertThat(ContentTypes.of("x.svg")).isEqualTo("image/svg+xml");
        assertThat(ContentTypes.of("Makefile")).isEqualTo("application/octet-stream");
        assertThat(ContentTypes.of("a.woff2")).isEqualTo("font/woff2");
    }
}
