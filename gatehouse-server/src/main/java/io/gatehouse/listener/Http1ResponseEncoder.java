package io.gatehouse.listener;

import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;

/**
 * Netty's response encoder, told whether the response in progress answers a HEAD request (so a Content-Length
 * without a body is right). Requests are served one at a time, so one flag suffices.
 */
final class Http1ResponseEncoder extends HttpResponseEncoder {
    private boolean headResponse;

    void expectHeadResponse(boolean head) {
        this.headResponse = head;
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
        return headResponse || super.isContentAlwaysEmpty(msg);
    }
}
