package io.gatehouse.cli.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An endpoint whose response stays in flight until the test releases it: it answers every request with a head and
 * the first half of a 10-byte body ("hello") at once, and the second half ("world") only after {@link #release}.
 * That holds a request in flight across a signal without any timing.
 */
final class HeldBackend implements AutoCloseable {
    private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final CountDownLatch released = new CountDownLatch(1);
    private final AtomicInteger requests = new AtomicInteger();

    HeldBackend() throws IOException {
        Thread.ofPlatform().daemon().name("held-backend").start(this::accept);
    }

    String address() { return "127.0.0.1:" + server.getLocalPort(); }

    int requests() { return requests.get(); }

    void release() { released.countDown(); }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread.ofPlatform().daemon().name("held-connection").start(() -> serve(s));
            } catch (IOException e) {
                return;   // closed
            }
        }
    }

    private void serve(Socket s) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            s.setSoTimeout(60_000);
            while (readHead(in)) {
                requests.incrementAndGet();
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nContent-Type: text/plain\r\n\r\nhello".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                if (!released.await(60, TimeUnit.SECONDS)) return;
                out.write("world".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // the peer went away: nothing to answer
        }
    }

    /** Reads one request head (no body: GETs only); false at end of stream. */
    private static boolean readHead(InputStream in) throws IOException {
        int matched = 0;
        int b;
        while ((b = in.read()) >= 0) {
            matched = (b == '\r' || b == '\n') ? (b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0)) : 0;
            if (matched == 4) return true;
        }
        return false;
    }

    @Override
    public void close() throws IOException {
        released.countDown();
        server.close();
    }
}
