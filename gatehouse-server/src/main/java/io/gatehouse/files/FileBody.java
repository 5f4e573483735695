package io.gatehouse.files;

import io.gatehouse.http.Downstream;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.DefaultFileRegion;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;

/**
 * A body larger than {@link FileServer#SMALL}, sent from its open file. Zero-copy when nothing stands between the
 * action and the client and the connection can ({@link Downstream#zeroCopy()}: plain HTTP/1.1): one
 * {@link DefaultFileRegion}, which the kernel sends with sendfile and which holds no bytes in memory. Otherwise (TLS,
 * HTTP/2, a filter that wraps the response, several ranges) it is read {@link #CHUNK} bytes at a time on the
 * file-system threads and written on the event loop, one read in flight, and only while the client is writable: a
 * slow client holds the reading back, so at most one chunk (plus the connection's write buffer) is in memory.
 * Confined to the exchange's event loop, except the reads, whose results come back to it.
 */
final class FileBody implements HttpExchange.ClientListener {
    static final int CHUNK = 64 * 1024;
    /** Chunks read so far, by every body (what the zero-copy path saves: tests and diagnostics read it). */
    static final java.util.concurrent.atomic.LongAdder CHUNKS_READ = new java.util.concurrent.atomic.LongAdder();

    private final HttpResponse head;
    private final List<Object> parts;
    private final FileChannel file;
    private HttpExchange exchange;
    private int part;            // index into parts
    private long done;           // bytes of parts[part] already written
    private boolean reading;     // a read is in flight
    private boolean closed;

    FileBody(HttpResponse head, List<Object> parts, FileChannel file) {
        this.head = head;
        this.parts = parts;
        this.file = file;
    }

    /** Reads exactly {@code length} bytes at {@code position}: a file shorter than that (truncated meanwhile) is an error. */
    static void readFully(FileChannel file, ByteBuf into, long position, int length) throws IOException {
        int end = into.writerIndex() + length;
        while (into.writerIndex() < end) {
            long at = position + (into.writerIndex() - (end - length));
            if (into.writeBytes(file, at, end - into.writerIndex()) < 0) throw new IOException("file shorter than its length");
        }
    }

    /** On the event loop: the head, then the body. */
    void start(HttpExchange exchange) {
        this.exchange = exchange;
        if (exchange.requestIdValue() != null) head.headers().set(LocalResponse.REQUEST_ID_HEADER, exchange.requestIdValue());
        exchange.clientListener(this);
        exchange.response().write(head);
        Downstream d = exchange.downstream();
        if (exchange.response() == d && d.zeroCopy() && parts.size() == 1 && parts.get(0) instanceof long[] span) {
            closed = true;   // the region owns the file now and closes it when released
            d.write(new DefaultFileRegion(file, span[0], span[1]));
            d.write(LastHttpContent.EMPTY_LAST_CONTENT);
            d.flush();
            return;
        }
        pump();
    }

    /** Writes what it can without waiting; asks for the next read while the client takes more. */
    private void pump() {
        while (!closed && !reading) {
            if (part == parts.size()) {
                finish();
                exchange.response().write(LastHttpContent.EMPTY_LAST_CONTENT);
                exchange.response().flush();
                return;
            }
            if (!exchange.response().isWritable()) {
                exchange.response().flush();
                return;   // onClientWritable resumes
            }
            Object p = parts.get(part);
            if (p instanceof ByteBuf b) {
                parts.set(part++, null);
                exchange.response().write(new DefaultHttpContent(b));
                continue;
            }
            long[] span = (long[]) p;
            int n = (int) Math.min(CHUNK, span[1] - done);
            long at = span[0] + done;
            reading = true;
            try {
                FileSystemThreads.execute(() -> read(at, n));
            } catch (RejectedExecutionException e) {
                reading = false;
                fail("files_busy");
            }
        }
    }

    /** On a file-system thread. */
    private void read(long at, int n) {
        CHUNKS_READ.increment();
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(n);
        IOException error = null;
        try {
            readFully(file, buf, at, n);
        } catch (IOException e) {
            error = e;
        }
        IOException failed = error;
        exchange.eventLoop().execute(() -> {
            reading = false;
            if (closed || failed != null) {
                buf.release();
                if (failed != null) fail("file_read_failed");
                return;
            }
            done += n;
            if (done == ((long[]) parts.get(part))[1]) {
                part++;
                done = 0;
            }
            exchange.response().write(new DefaultHttpContent(buf));
            exchange.response().flush();
            pump();
        });
    }

    private void fail(String reason) {
        finish();
        exchange.failureReason(reason);
        exchange.response().abort(reason);
    }

    @Override
    public void onClientWritable() {
        if (!closed) pump();
    }

    @Override
    public void onClientGone() {
        finish();
    }

    /** Before it started (the client went away meanwhile): frees what it holds. */
    void discard() {
        finish();
    }

    private void finish() {
        if (closed) return;
        closed = true;
        for (Object p : parts) if (p instanceof ByteBuf b) ReferenceCountUtil.release(b);
        try {
            file.close();
        } catch (IOException ignored) {
            // read-only: nothing to lose
        }
    }
}
