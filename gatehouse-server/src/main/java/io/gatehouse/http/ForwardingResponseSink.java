package io.gatehouse.http;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * A {@link ResponseSink} that passes everything on to the one it wraps: filters override what they need. {@link
 * #write} splits each message into {@link #head}, {@link #body} and {@link #end} calls, as Envoy's encodeHeaders /
 * encodeData / encodeTrailers do; a full response (head and body in one message) goes to {@link #whole} first, which
 * by default passes it on as it is (one write, as the protocol handlers like it).
 */
public abstract class ForwardingResponseSink implements ResponseSink {
    protected final ResponseSink next;

    protected ForwardingResponseSink(ResponseSink next) {
        this.next = next;
    }

    @Override
    public void write(HttpObject message) {
        if (message instanceof HttpResponse head) {
            if (message instanceof FullHttpResponse full) whole(full);
            else head(head);
        } else if (message instanceof LastHttpContent last) {
            end(last);
        } else {
            body((HttpContent) message);
        }
    }

    /** A response head without its body (interim 1xx heads too: check the status). */
    protected void head(HttpResponse head) {
        next.write(head);
    }

    /** A complete response in one message (a local answer, or a small body that arrived with its head). */
    protected void whole(FullHttpResponse response) {
        next.write(response);
    }

    /** A piece of the body. */
    protected void body(HttpContent piece) {
        next.write(piece);
    }

    /** The end of the body, maybe with trailers and a last piece (and the end of a 1xx interim head). */
    protected void end(LastHttpContent last) {
        next.write(last);
    }

    /**
     * A sink that edits the headers of every final response head ({@code status >= 200}: Gatehouse's own answers too,
     * never a 1xx interim head) and passes everything on: what HSTS, header rules, CORS and rate-limit headers need.
     */
    public static ResponseSink finalHeaders(ResponseSink next, java.util.function.Consumer<io.netty.handler.codec.http.HttpHeaders> edit) {
        return new ForwardingResponseSink(next) {
            @Override
            protected void head(HttpResponse head) {
                if (head.status().code() >= 200) edit.accept(head.headers());
                next.write(head);
            }

            @Override
            protected void whole(FullHttpResponse whole) {
                if (whole.status().code() >= 200) edit.accept(whole.headers());
                next.write(whole);
            }
        };
    }

    @Override
    public void flush() {
        next.flush();
    }

    @Override
    public boolean isWritable() {
        return next.isWritable();
    }

    @Override
    public void abort(String reason) {
        next.abort(reason);
    }
}
