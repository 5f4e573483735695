package io.gatehouse.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class KnownHeaderNamesTest {

    private static Object find(String name) { // Object: AssertJ has several assertThat overloads an AsciiString fits
        // placed mid-array, as the decoders pass a name inside a head
        byte[] b = ("GET / HTTP/1.1\r\n" + name + ": x\r\n").getBytes(StandardCharsets.ISO_8859_1);
        return KnownHeaderNames.find(b, 16, name.length());
    }

    @Test
    void findsTheInternedNameInAnyCase() {
        assertThat(find("content-length")).isSameAs(HttpHeaderNames.CONTENT_LENGTH);
        assertThat(find("Content-Length")).isSameAs(HttpHeaderNames.CONTENT_LENGTH);
        assertThat(find("CONTENT-LENGTH")).isSameAs(HttpHeaderNames.CONTENT_LENGTH);
        assertThat(find("Transfer-Encoding")).isSameAs(HttpHeaderNames.TRANSFER_ENCODING);
        assertThat(find("TE")).isSameAs(HttpHeaderNames.TE);
        assertThat(find("Host")).isSameAs(HttpHeaderNames.HOST);
        assertThat(find("X-Forwarded-For")).hasToString("x-forwarded-for");
        assertThat(find("Sec-CH-UA-Mobile")).hasToString("sec-ch-ua-mobile");
    }

    @Test
    void namesThatOnlyLookAlikeAreNotKnown() {
        assertThat(find("content-lengtx")).isNull();   // same length, first and last byte differ by one place
        assertThat(find("content_length")).isNull();   // '_' | 0x20 is DEL, never '-'
        assertThat(find("content-length2")).isNull();
        assertThat(find("ontent-length")).isNull();
        assertThat(find("x")).isNull();
        assertThat(find("content~length")).isNull();
        assertThat(find("Cont^nt-Length")).isNull();  // '^' | 0x20 is '~', which no known name holds
    }

    @Test
    void aNameOfOneByteOrAVeryLongOneIsSimplyUnknown() {
        assertThat(find("a")).isNull();
        assertThat(find("x-" + "a".repeat(500))).isNull();
    }
}
