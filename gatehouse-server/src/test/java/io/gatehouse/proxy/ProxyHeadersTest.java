package io.gatehouse.proxy;

import io.gatehouse.http.FlatHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

class ProxyHeadersTest {

    private static HttpHeaders headers(String kind) {
        // unvalidated, as the decoders' own checks stand in for Netty's (a value may start with OWS here)
        return kind.equals("flat") ? new FlatHttpHeaders()
                : DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
    }

    @ParameterizedTest
    @ValueSource(strings = {"flat", "netty"})
    void removesWhatConnectionNamesInEveryFieldButNeverTheFramingHeaders(String kind) {
        HttpHeaders h = headers(kind);
        h.add("Connection", new AsciiString(" Keep-Alive ,X-Secret,,\tx-other "));
        h.add("connection", "CLOSE, Content-Length, Transfer-Encoding, HOST, x-third");
        h.add("X-Secret", "s");
        h.add("x-other", "o");
        h.add("X-Third", "t");
        h.add("Content-Length", "3");
        h.add("Transfer-Encoding", "chunked");
        h.add("Host", "example.com");
        h.add("X-Kept", "k");

        ProxyHeaders.removeHopByHop(h, ProxyHeaders.scan(h));

        assertThat(h.names()).containsExactlyInAnyOrder("Content-Length", "Transfer-Encoding", "Host", "X-Kept");
    }

    @ParameterizedTest
    @ValueSource(strings = {"flat", "netty"})
    void theUsualKeepAliveOnlyLosesTheConnectionFieldItself(String kind) {
        HttpHeaders h = headers(kind);
        h.add("Content-Type", "text/plain");
        h.add("Connection", "keep-alive");
        h.add("Keep-Alive", "timeout=5");
        h.add("Date", "today");

        ProxyHeaders.removeHopByHop(h, ProxyHeaders.scan(h));

        assertThat(h.names()).containsExactlyInAnyOrder("Content-Type", "Date");
    }
}
