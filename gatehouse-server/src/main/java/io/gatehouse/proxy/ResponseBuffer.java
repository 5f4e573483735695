package io.gatehouse.proxy;

import io.gatehouse.config.ClusterConfig.ResponseBufferingConfig;
import io.gatehouse.http.ResponseSink;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;

/**
 * The response body an endpoint sent faster than its client takes it (nginx's {@code proxy_buffering}): up to
 * {@code memory} bytes held in memory, then up to {@code temp_file} bytes in a temporary file, so the endpoint's
 * connection is freed once its response is in, whatever the client's pace. Past both bounds the proxy stops reading
 * from the endpoint, as without buffering.
 *
 * <p>Order is kept: once a piece went to the file, every later piece follows it there, and the end of the response
 * (with any trailers) waits behind the file. The file is written and read through an {@link AsynchronousFileChannel}
 * (its own threads), one operation at a time each way, and every completion continues on the exchange's event loop.
 * Confined to that event loop otherwise.
 */
final class ResponseBuffer {
    private static final Logger log = LoggerFactory.getLogger(ResponseBuffer.class);
    /** Bytes read from the file per piece sent to the client. */
    static final int FILE_CHUNK = 16 * 1024;
    /** Bytes waiting to be written to the file before the proxy stops reading from the endpoint. */
    static final int SPILL_WINDOW = 64 * 1024;

    private final ResponseSink client;
    private final EventLoop loop;
    private final long memoryLimit;
    private final long fileLimit;
    private final Path dir;
    private final Runnable room;

    private final ArrayDeque<HttpContent> memory = new ArrayDeque<>();
    private long memoryBytes;
    private AsynchronousFileChannel file;        // null until the first piece spills
    private Path filePath;
    private final ArrayDeque<ByteBuf> spill = new ArrayDeque<>(); // bytes waiting for the file, in order
    private long spillBytes;
    private long fileWritten;                    // bytes in the file
    private long fileRead;                       // bytes of the file sent to the client
    private boolean writing;
    private boolean reading;
    private LastHttpContent end;                 // the response's end, once it came after the file
    private boolean released;
    private boolean fileDisabled;                // the file could not be created: memory only from then on

    /** @param room called when the buffer may have room again (the proxy reads on from the endpoint if it stopped) */
    ResponseBuffer(ResponseSink client, EventLoop loop, ResponseBufferingConfig config, Runnable room) {
        this.client = client;
        this.room = room;
        this.loop = loop;
        this.memoryLimit = config.memory();
        this.fileLimit = config.tempFile();
        this.dir = config.tempDir() == null ? null : Path.of(config.tempDir());
    }

    /** True while anything is held: later pieces must queue behind it. */
    boolean holding() {
        return !memory.isEmpty() || file != null || end != null;
    }

    /** True when no more may be read from the endpoint until the client takes some. */
    boolean full() {
        if (memoryBytes < memoryLimit && file == null) return false;
        return fileLimit == 0 || fileDisabled || spillBytes >= SPILL_WINDOW || fileWritten + spillBytes >= fileLimit;
    }

    /** True once the end of the response is held (the endpoint's part is over). */
    boolean holdsEnd() {
        return end != null || (!memory.isEmpty() && memory.peekLast() instanceof LastHttpContent);
    }

    /** Holds {@code content} (taking its reference). */
    void add(HttpContent content) {
        if (released) {
            content.release();
            return;
        }
        int n = content.content().readableBytes();
        if (file == null && (memoryBytes + n <= memoryLimit || fileLimit == 0 || fileDisabled || n == 0 || !openFile())) {
            // within memory; past it without a file a piece still goes in, read before full() stopped the reads
            memory.add(content);
            memoryBytes += n;
            return;
        }
        if (n > 0) {
            spill.add(content.content().retain());
            spillBytes += n;
        }
        if (content instanceof LastHttpContent last) {
            end = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, last.trailingHeaders());
        }
        content.release();
        writeNext();
    }

    private boolean openFile() {
        try {
            // creating the file is one short system call; writes and reads go to the channel's own threads
            filePath = dir == null ? Files.createTempFile("gatehouse-response-", ".tmp")
                    : Files.createTempFile(dir, "gatehouse-response-", ".tmp");
            file = AsynchronousFileChannel.open(filePath, StandardOpenOption.READ, StandardOpenOption.WRITE,
                    StandardOpenOption.DELETE_ON_CLOSE);
            return true;
        } catch (IOException e) {
            log.warn("response buffering: no temporary file ({}); holding the response in memory only", e.toString());
            if (filePath != null) deleteQuietly(filePath);
            filePath = null;
            file = null;
            fileDisabled = true;
            return false;
        }
    }

    private void writeNext() {
        if (writing || released || spill.isEmpty()) return;
        ByteBuf buf = spill.peek();
        writing = true;
        ByteBuffer nio = buf.nioBuffer();
        file.write(nio, fileWritten, buf, new CompletionHandler<>() {
            @Override
            public void completed(Integer written, ByteBuf b) {
                loop.execute(() -> wrote(b, written));
            }

            @Override
            public void failed(Throwable cause, ByteBuf b) {
                loop.execute(() -> fail(cause));
            }
        });
    }

    private void wrote(ByteBuf buf, int written) {
        writing = false;
        if (released) return;
        fileWritten += written;
        spillBytes -= written;
        buf.skipBytes(written);
        if (!buf.isReadable()) {
            spill.poll();
            buf.release();
        }
        writeNext();
        drain();
        room.run();
    }

    /** Sends the client what it can take now; more follows on {@link #drain()} calls as it becomes writable. */
    void drain() {
        if (released) return;
        boolean wrote = false;
        while (client.isWritable() && !memory.isEmpty()) {
            HttpContent c = memory.poll();
            memoryBytes -= c.content().readableBytes();
            client.write(c);
            wrote = true;
        }
        if (memory.isEmpty() && file != null && client.isWritable()) {
            if (fileRead < fileWritten) {
                readNext();
            } else if (spill.isEmpty() && !writing && end != null) {
                LastHttpContent last = end;
                end = null;
                closeFile();
                client.write(last);
                wrote = true;
            }
        }
        if (wrote) client.flush();
    }

    private void readNext() {
        if (reading || released) return;
        int n = (int) Math.min(FILE_CHUNK, fileWritten - fileRead);
        ByteBuf buf = io.netty.buffer.ByteBufAllocator.DEFAULT.directBuffer(n);
        ByteBuffer nio = buf.nioBuffer(0, n);
        reading = true;
        file.read(nio, fileRead, buf, new CompletionHandler<>() {
            @Override
            public void completed(Integer read, ByteBuf b) {
                loop.execute(() -> readDone(b, read));
            }

            @Override
            public void failed(Throwable cause, ByteBuf b) {
                b.release();
                loop.execute(() -> fail(cause));
            }
        });
    }

    private void readDone(ByteBuf buf, int read) {
        reading = false;
        if (released || read <= 0) {
            buf.release();
            if (!released) fail(new IOException("temporary file ended early"));
            return;
        }
        buf.writerIndex(read);
        fileRead += read;
        client.write(new DefaultHttpContent(buf));
        client.flush();
        drain();
        room.run();
    }

    /** The file failed: the client's response cannot be completed. */
    private void fail(Throwable cause) {
        if (released) return;
        log.warn("response buffering: temporary file failed: {}", cause.toString());
        release();
        client.abort("response_buffer_failed");
    }

    /** Drops everything held (the client went away, or the response was aborted). */
    void release() {
        if (released) return;
        released = true;
        memory.forEach(ReferenceCountUtil::release);
        memory.clear();
        spill.forEach(ReferenceCountUtil::release);
        spill.clear();
        end = null;
        closeFile();
    }

    private void closeFile() {
        if (file == null) return;
        try {
            file.close(); // DELETE_ON_CLOSE removes it
        } catch (IOException e) {
            log.debug("response buffering: closing the temporary file: {}", e.toString());
        }
        deleteQuietly(filePath);
        file = null;
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // DELETE_ON_CLOSE already took it, or the directory is gone: nothing left to clean
        }
    }
}
