package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * The final piece of a body, carrying bytes and no trailers. Exists because {@code DefaultLastHttpContent} allocates
 * a trailers map per message, while ending a Content-Length body in the same message as its last bytes saves a whole
 * trip through the proxy and the downstream encoder.
 */
final class LastBodyContent extends DefaultHttpContent implements LastHttpContent {
    LastBodyContent(ByteBuf content) {
        super(content);
    }

    @Override
    public HttpHeaders trailingHeaders() {
        return EmptyHttpHeaders.INSTANCE;
    }

    @Override
    public LastHttpContent copy() {
        return replace(content().copy());
    }

    @Override
    public LastHttpContent duplicate() {
        return replace(content().duplicate());
    }

    @Override
    public LastHttpContent retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    @Override
    public LastHttpContent replace(ByteBuf content) {
        LastBodyContent copy = new LastBodyContent(content);
        copy.setDecoderResult(decoderResult());
        return copy;
    }

    @Override
    public LastHttpContent retain() {
        super.retain();
        return this;
    }

    @Override
    public LastHttpContent retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public LastHttpContent touch() {
        super.touch();
        return this;
    }

    @Override
    public LastHttpContent touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return "LastBodyContent(data: " + content() + ", decoderResult: " + decoderResult() + ')';
    }
}
