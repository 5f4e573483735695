package io.gatehouse.http;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The request body pieces an exchange holds until its consumer attaches. */
class HttpExchangeTest {
    private final HttpExchange exchange = newExchange();

    @Test
    void piecesThatArrivedBeforeTheConsumerReachItInOrder() {
        HttpContent first = new DefaultHttpContent(Unpooled.copiedBuffer(new byte[] {1}));
        HttpContent last = new DefaultLastHttpContent(Unpooled.copiedBuffer(new byte[] {2}));
        exchange.receiveBody(first);
        exchange.receiveBody(last);
        List<HttpContent> got = new ArrayList<>();
        exchange.bodyReceiver(collectingInto(got));
        assertThat(got).containsExactly(first, last);
        assertThat(exchange.requestComplete()).isTrue();
        got.forEach(HttpContent::release);
    }

    @Test
    void aPieceThatEndsTheExchangeWhileEarlyPiecesAreDeliveredReleasesTheRest() {
        HttpContent first = new DefaultHttpContent(Unpooled.copiedBuffer(new byte[] {1}));
        HttpContent second = new DefaultHttpContent(Unpooled.copiedBuffer(new byte[] {2}));
        HttpContent last = new DefaultLastHttpContent(Unpooled.copiedBuffer(new byte[] {3}));
        exchange.receiveBody(first);
        exchange.receiveBody(second);
        exchange.receiveBody(last);
        List<HttpContent> got = new ArrayList<>();
        // the consumer refuses the body at its first piece and the exchange ends (as a 400 from a body decoder does)
        exchange.bodyReceiver(new HttpExchange.BodyReceiver() {
            @Override public void onBody(HttpContent content) {
                got.add(content);
                content.release();
                exchange.discardEarlyBody();
            }
            @Override public void onBodyError(HttpResponseStatus status, String reason) { }
        });
        assertThat(got).containsExactly(first);
        assertThat(second.refCnt()).isZero();
        assertThat(last.refCnt()).isZero();
    }

    @Test
    void aSinglePieceWaitsAndIsDeliveredOrReleased() {
        HttpContent only = new DefaultLastHttpContent(Unpooled.copiedBuffer(new byte[] {1}));
        exchange.receiveBody(only);
        List<HttpContent> got = new ArrayList<>();
        exchange.bodyReceiver(collectingInto(got));
        assertThat(got).containsExactly(only);
        only.release();

        HttpExchange unanswered = newExchange();
        HttpContent held = new DefaultLastHttpContent(Unpooled.copiedBuffer(new byte[] {2}));
        unanswered.receiveBody(held);
        unanswered.discardEarlyBody();
        assertThat(held.refCnt()).isZero();
    }

    @Test
    void piecesArrivingAfterTheConsumerAttachedFollowTheEarlyOnes() {
        HttpContent first = new DefaultHttpContent(Unpooled.copiedBuffer(new byte[] {1}));
        HttpContent second = new DefaultHttpContent(Unpooled.copiedBuffer(new byte[] {2}));
        HttpContent last = new DefaultLastHttpContent(Unpooled.copiedBuffer(new byte[] {3}));
        exchange.receiveBody(first);
        List<HttpContent> got = new ArrayList<>();
        exchange.bodyReceiver(collectingInto(got));
        exchange.receiveBody(second);
        exchange.receiveBody(last);
        assertThat(got).containsExactly(first, second, last);
        got.forEach(HttpContent::release);
    }

    private static HttpExchange newExchange() {
        return new HttpExchange(null, "edge",
                new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/items"), "a.example", 0, null);
    }

    /** A receiver that keeps every piece it is given, in order. */
    private static HttpExchange.BodyReceiver collectingInto(List<HttpContent> got) {
        return new HttpExchange.BodyReceiver() {
            @Override public void onBody(HttpContent content) { got.add(content); }
            @Override public void onBodyError(HttpResponseStatus status, String reason) { }
        };
    }
}
