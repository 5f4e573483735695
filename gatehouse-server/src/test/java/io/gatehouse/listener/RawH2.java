package io.gatehouse.listener;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Hand-written HTTP/2 frames over a plain socket, for sending what no well-behaved client would. A reader thread
 * collects what the server sends, so a GOAWAY is seen even when the server closes while we are still writing.
 */
public final class RawH2 implements AutoCloseable {
    public static final int DATA = 0, HEADERS = 1, PRIORITY = 2, RST_STREAM = 3, SETTINGS = 4, PING = 6, GOAWAY = 7,
            WINDOW_UPDATE = 8, CONTINUATION = 9;
    public static final int END_STREAM = 0x1, END_HEADERS = 0x4, ACK = 0x1;

    /** A frame from the server; HEADERS come decoded (in arrival order, so the HPACK table stays in step). */
    public record Frame(int type, int flags, int stream, byte[] payload, Http2Headers headers) {
        public String status() {
            return headers == null || headers.status() == null ? null : headers.status().toString();
        }

        public long errorCode() {
            int at = type == GOAWAY ? 4 : 0;
            return ((payload[at] & 0xffL) << 24) | ((payload[at + 1] & 0xff) << 16) | ((payload[at + 2] & 0xff) << 8)
                    | (payload[at + 3] & 0xff);
        }
    }

    private static final Frame EOF = new Frame(-1, 0, 0, new byte[0], null);

    private final Socket socket;
    private final OutputStream out;
    private final BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();
    private final DefaultHttp2HeadersEncoder hpack = new DefaultHttp2HeadersEncoder();
    private final io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder hpackIn =
            new io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder(false);
    private volatile boolean writeFailed;

    private final Thread reader = new Thread(this::readLoop, "raw-h2-reader");

    private RawH2(InetSocketAddress address, int receiveBuffer, boolean tls) throws IOException {
        Socket plain = new Socket();
        if (receiveBuffer > 0) plain.setReceiveBufferSize(receiveBuffer); // before connecting: it sets the window
        plain.connect(address);
        plain.setTcpNoDelay(true);
        socket = tls ? handshake(plain, address) : plain;
        out = socket.getOutputStream();
        reader.setDaemon(true);
    }

    /** Connects and sends the preface and {@code settings} (id, value pairs). */
    public static RawH2 connect(InetSocketAddress address, int... settings) {
        RawH2 c = connectNotReading(address, 0, settings);
        c.startReading();
        return c;
    }

    /**
     * Connects like {@link #connect} with a socket receive buffer of {@code receiveBuffer} bytes (0: the default),
     * and reads nothing until {@link #startReading()}: a client that falls behind reading what the server sends.
     */
    public static RawH2 connectNotReading(InetSocketAddress address, int receiveBuffer, int... settings) {
        try {
            RawH2 c = new RawH2(address, receiveBuffer, false);
            c.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            c.settings(settings);
            return c;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Connects over TLS with ALPN h2 (any certificate is taken: the frames are the test), as {@link #connect}. */
    public static RawH2 connectTls(InetSocketAddress address, int... settings) {
        try {
            RawH2 c = new RawH2(address, 0, true);
            c.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            c.settings(settings);
            c.startReading();
            return c;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public void startReading() {
        reader.start();
    }

    private static Socket handshake(Socket plain, InetSocketAddress address) throws IOException {
        try {
            javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
            context.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
                @Override
                public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String type) {}

                @Override
                public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String type) {}

                @Override
                public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                    return new java.security.cert.X509Certificate[0];
                }
            }}, null);
            javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) context.getSocketFactory()
                    .createSocket(plain, "localhost", address.getPort(), true);
            javax.net.ssl.SSLParameters p = s.getSSLParameters();
            p.setApplicationProtocols(new String[] {"h2"});
            s.setSSLParameters(p);
            s.startHandshake();
            if (!"h2".equals(s.getApplicationProtocol())) throw new IOException("ALPN chose " + s.getApplicationProtocol());
            return s;
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    /** Bytes the server sent that wait unread in this socket (readable without taking them). */
    public int unread() {
        try {
            return socket.getInputStream().available();
        } catch (IOException e) {
            return -1;
        }
    }

    private void readLoop() {
        try (DataInputStream in = new DataInputStream(socket.getInputStream())) {
            while (true) {
                int length = in.readUnsignedShort() << 8 | in.readUnsignedByte();
                int type = in.readUnsignedByte();
                int flags = in.readUnsignedByte();
                int stream = in.readInt() & 0x7fffffff;
                byte[] payload = new byte[length];
                in.readFully(payload);
                Http2Headers decoded = null;
                if (type == HEADERS) {
                    ByteBuf block = Unpooled.wrappedBuffer(payload);
                    try {
                        decoded = hpackIn.decodeHeaders(stream, block);
                    } catch (Http2Exception e) {
                        throw new IOException(e);
                    } finally {
                        block.release();
                    }
                }
                frames.add(new Frame(type, flags, stream, payload, decoded));
            }
        } catch (EOFException e) {
            // closed by the server
        } catch (IOException e) {
            // reset or closed locally
        } finally {
            frames.add(EOF);
        }
    }

    /** Holds frames back until {@link #uncork()} sends them in one write, as an attacker packs them into segments. */
    public synchronized void cork() {
        corked = new java.io.ByteArrayOutputStream();
    }

    public synchronized void uncork() {
        byte[] held = corked.toByteArray();
        corked = null;
        write(held);
    }

    private java.io.ByteArrayOutputStream corked;

    synchronized void write(byte[] bytes) {
        if (corked != null) {
            corked.writeBytes(bytes);
            return;
        }
        if (writeFailed) return;
        try {
            out.write(bytes);
            out.flush();
        } catch (IOException e) {
            writeFailed = true; // the server closed: what it said before is in the frame queue
        }
    }

    public boolean writeFailed() {
        return writeFailed;
    }

    public void frame(int type, int flags, int stream, byte[] payload) {
        byte[] f = new byte[9 + payload.length];
        f[0] = (byte) (payload.length >>> 16);
        f[1] = (byte) (payload.length >>> 8);
        f[2] = (byte) payload.length;
        f[3] = (byte) type;
        f[4] = (byte) flags;
        f[5] = (byte) (stream >>> 24);
        f[6] = (byte) (stream >>> 16);
        f[7] = (byte) (stream >>> 8);
        f[8] = (byte) stream;
        System.arraycopy(payload, 0, f, 9, payload.length);
        write(f);
    }

    public void settings(int... idValuePairs) {
        byte[] p = new byte[idValuePairs.length / 2 * 6];
        for (int i = 0, at = 0; i < idValuePairs.length; i += 2, at += 6) {
            p[at] = (byte) (idValuePairs[i] >>> 8);
            p[at + 1] = (byte) idValuePairs[i];
            int v = idValuePairs[i + 1];
            p[at + 2] = (byte) (v >>> 24);
            p[at + 3] = (byte) (v >>> 16);
            p[at + 4] = (byte) (v >>> 8);
            p[at + 5] = (byte) v;
        }
        frame(SETTINGS, 0, 0, p);
    }

    public void ping() {
        frame(PING, 0, 0, new byte[8]);
    }

    public void rst(int stream, int code) {
        frame(RST_STREAM, 0, stream, int32(code));
    }

    public void windowUpdate(int stream, int increment) {
        frame(WINDOW_UPDATE, 0, stream, int32(increment));
    }

    public void data(int stream, boolean endStream, byte[] payload) {
        frame(DATA, endStream ? END_STREAM : 0, stream, payload);
    }

    /** HEADERS with the whole block and END_HEADERS. */
    public void headers(int stream, boolean endStream, Http2Headers headers) {
        frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), stream, encode(headers));
    }

    /** An HPACK block of {@code headers}, with this connection's dynamic table. */
    public byte[] encode(Http2Headers headers) {
        ByteBuf buf = Unpooled.buffer();
        try {
            hpack.encodeHeaders(0, headers, buf);
            return ByteBufUtil.getBytes(buf);
        } catch (Http2Exception e) {
            throw new IllegalStateException(e);
        } finally {
            buf.release();
        }
    }

    public static Http2Headers get(String path) {
        return new DefaultHttp2Headers().method("GET").scheme("http").authority("a").path(path);
    }

    public static Http2Headers post(String path) {
        return new DefaultHttp2Headers().method("POST").scheme("http").authority("a").path(path);
    }

    /** The next frame, null on timeout; a frame of type -1 means the server closed the connection. */
    public Frame next(Duration timeout) {
        try {
            Frame f = frames.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (f == EOF) frames.add(EOF); // stays at the end for later calls
            return f;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The first frame of {@code type} (others skipped), or null if the connection closes or time runs out first. */
    public Frame await(int type, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return null;
            Frame f = next(Duration.ofNanos(left));
            if (f == null || f == EOF) return null;
            if (f.type() == type) return f;
        }
    }

    /** The first frame on {@code stream} of type HEADERS or RST_STREAM, or null. */
    public Frame awaitAnswer(int stream, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return null;
            Frame f = next(Duration.ofNanos(left));
            if (f == null || f == EOF) return null;
            if (f.stream() == stream && (f.type() == HEADERS || f.type() == RST_STREAM)) return f;
        }
    }

    /** Whether the server closed the connection within {@code timeout} (frames before that are skipped). */
    public boolean closedByPeer(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return false;
            Frame f = next(Duration.ofNanos(left));
            if (f == EOF) return true;
            if (f == null) return false;
        }
    }

    /** Shuts the socket's output (a FIN) and keeps reading: a client that is done sending (plain sockets only). */
    public void shutdownOutput() {
        try {
            socket.shutdownOutput();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] int32(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
