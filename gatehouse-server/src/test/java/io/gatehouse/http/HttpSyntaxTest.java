package io.gatehouse.http;

import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The host a route matches on, cut from the Host field as decoded (bytes) or as text, alike. */
class HttpSyntaxTest {

    @Test
    void hostOfDropsThePortAndLowerCases() {
        for (String[] c : new String[][] {
                {"a.example:8080", "a.example"},
                {"A.Example", "a.example"},
                {"WWW.A.EXAMPLE:443", "www.a.example"},
                {"[::1]:8080", "[::1]"},
                {"[::1]", "[::1]"},
                {"127.0.0.1", "127.0.0.1"},
                {"", ""}}) {
            assertThat(HttpSyntax.hostOf(new AsciiString(c[0]))).as(c[0]).isEqualTo(c[1]);
            assertThat(HttpSyntax.hostOf(c[0])).as(c[0]).isEqualTo(c[1]);
        }
        assertThat(HttpSyntax.hostOf(null)).isEmpty();
        assertThat(HttpSyntax.hostOf(new StringBuilder("B.example:1"))).isEqualTo("b.example");
    }

    @Test
    void hostOfASliceOfALargerBufferReadsOnlyItsBytes() {
        byte[] head = "Host: X.example:81\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        AsciiString value = new AsciiString(head, 6, 12, false);
        assertThat(HttpSyntax.hostOf(value)).isEqualTo("x.example");
    }
}
