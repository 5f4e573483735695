package io.gatehouse.testing;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A tiny blocking client over a plain socket for protocol tests: send exactly the bytes you want, read exactly what
 * came back.
 *
 * <pre>{@code
 * try (RawClient client = RawClient.connect("127.0.0.1", proxyPort)) {
 *     client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
 *     RawResponse response = client.readResponse(Duration.ofSeconds(5));
 *     assertThat(response.status()).isEqualTo(200);
 * }
 * }</pre>
 *
 * <p>Every read has a deadline (the socket's {@code SO_TIMEOUT} is set to what is left of it). I/O failures are thrown
 * as {@link UncheckedIOException}; a read that times out throws one caused by {@link SocketTimeoutException}.
 * Strings are sent as ISO-8859-1, one byte per char, so any byte can be written from a string literal. Bytes read
 * beyond one response stay buffered for the next read.
 */
public final class RawClient implements AutoCloseable {

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private final Socket socket;
    private final InputStream in;
    private byte[] buffer = new byte[16 * 1024];
    private int start;
    private int end;
    private boolean endOfStream;

    private RawClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
    }

    /** Connects to {@code host:port} (within 5 seconds). */
    public static RawClient connect(String host, int port) {
        return connect(new InetSocketAddress(host, port));
    }

    /** Connects to {@code address} (within 5 seconds). */
    public static RawClient connect(InetSocketAddress address) {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(address, (int) CONNECT_TIMEOUT.toMillis());
            return new RawClient(socket);
        } catch (IOException e) {
            closeQuietly(socket);
            throw new UncheckedIOException("cannot connect to " + address, e);
        }
    }

    /** Sends {@code data}, one ISO-8859-1 byte per char. */
    public RawClient send(String data) {
        return send(data.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Sends {@code data}. */
    public RawClient send(byte[] data) {
        try {
            socket.getOutputStream().write(data);
            socket.getOutputStream().flush();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Half-closes the connection: sends FIN, keeps reading possible. */
    public RawClient shutdownOutput() {
        try {
            socket.shutdownOutput();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The local port of the connection (to find it in a server's records). */
    public int localPort() {
        return socket.getLocalPort();
    }

    /**
     * Reads one response: status line, headers, and a body framed by {@code Content-Length}, chunked encoding, or
     * the end of the connection. A 1xx interim response is returned on its own (call again for the next one).
     * If the connection ends inside the body, the body read so far is returned with {@link RawResponse#complete()}
     * {@code false}.
     *
     * @throws UncheckedIOException when the deadline passes, or the connection ends before the header section does
     */
    public RawResponse readResponse(Duration timeout) {
        return readResponse(timeout, false);
    }

    /** Like {@link #readResponse(Duration)} for the response to a {@code HEAD} request: no body is read. */
    public RawResponse readHeadResponse(Duration timeout) {
        return readResponse(timeout, true);
    }

    /**
     * Waits up to {@code timeout} for bytes and returns all that are available then (at least one), or an empty
     * array if the peer closed the connection.
     */
    public byte[] readRaw(Duration timeout) {
        long deadline = deadline(timeout);
        try {
            if (available() == 0 && fill(deadline) == -1) {
                return new byte[0];
            }
            return take(available());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads until the peer closes (or resets) the connection and returns everything read. */
    public byte[] readUntilClose(Duration timeout) {
        long deadline = deadline(timeout);
        try {
            while (fill(deadline) != -1) {
                // keep buffering
            }
            return take(available());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Whether the peer closes (FIN) or resets the connection within {@code timeout}. Bytes arriving meanwhile are
     * kept for later reads.
     */
    public boolean isClosedByPeer(Duration timeout) {
        long deadline = deadline(timeout);
        try {
            while (fill(deadline) != -1) {
                // data is not a close; wait on
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        closeQuietly(socket);
    }

    // ---------------------------------------------------------------- parsing

    private RawResponse readResponse(Duration timeout, boolean head) {
        long deadline = deadline(timeout);
        try {
            String statusLine = readLine(deadline);
            if (statusLine == null) {
                throw new EOFException("connection closed before a response");
            }
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
                throw new IOException("not a status line: " + statusLine);
            }
            int status = Integer.parseInt(parts[1]);
            String reason = parts.length == 3 ? parts[2] : "";
            List<RawResponse.Header> headers = readFields(deadline);
            RawResponse response = new RawResponse(parts[0], status, reason, headers, new byte[0], List.of(), true);

            if (head || status < 200 || status == 204 || status == 304) {
                return response;
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            List<RawResponse.Header> trailers = new ArrayList<>();
            String transferEncoding = response.header("Transfer-Encoding");
            String contentLength = response.header("Content-Length");
            boolean complete;
            if (transferEncoding != null && transferEncoding.toLowerCase(Locale.ROOT).contains("chunked")) {
                complete = readChunked(deadline, body, trailers);
            } else if (contentLength != null) {
                complete = readExactly(deadline, Long.parseLong(contentLength.trim()), body);
            } else {
                while (fill(deadline) != -1) {
                    // body delimited by the end of the connection
                }
                body.writeBytes(take(available()));
                complete = true;
            }
            return new RawResponse(parts[0], status, reason, headers, body.toByteArray(), List.copyOf(trailers),
                    complete);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private List<RawResponse.Header> readFields(long deadline) throws IOException {
        List<RawResponse.Header> fields = new ArrayList<>();
        for (String line; !(line = requireLine(deadline)).isEmpty(); ) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IOException("not a header field: " + line);
            }
            fields.add(new RawResponse.Header(line.substring(0, colon), line.substring(colon + 1).strip()));
        }
        return List.copyOf(fields);
    }

    private boolean readChunked(long deadline, ByteArrayOutputStream body, List<RawResponse.Header> trailers)
            throws IOException {
        while (true) {
            String sizeLine = readLine(deadline);
            if (sizeLine == null) {
                return false;
            }
            int extension = sizeLine.indexOf(';');
            long size = Long.parseLong((extension < 0 ? sizeLine : sizeLine.substring(0, extension)).trim(), 16);
            if (size == 0) {
                try {
                    trailers.addAll(readFields(deadline));
                } catch (EOFException e) {
                    return false;
                }
                return true;
            }
            if (!readExactly(deadline, size, body) || readLine(deadline) == null) {
                return false;
            }
        }
    }

    /** Reads {@code length} bytes into {@code out}; false if the connection ended first. */
    private boolean readExactly(long deadline, long length, ByteArrayOutputStream out) throws IOException {
        long remaining = length;
        while (remaining > 0) {
            if (available() == 0 && fill(deadline) == -1) {
                return false;
            }
            int n = (int) Math.min(remaining, available());
            out.writeBytes(take(n));
            remaining -= n;
        }
        return true;
    }

    private String requireLine(long deadline) throws IOException {
        String line = readLine(deadline);
        if (line == null) {
            throw new EOFException("connection ended inside the header section");
        }
        return line;
    }

    /** One line without its CRLF (a bare LF is accepted), or null at the end of the stream. */
    private String readLine(long deadline) throws IOException {
        int scanned = start;
        while (true) {
            for (; scanned < end; scanned++) {
                if (buffer[scanned] == '\n') {
                    int lineEnd = scanned > start && buffer[scanned - 1] == '\r' ? scanned - 1 : scanned;
                    String line = new String(buffer, start, lineEnd - start, StandardCharsets.ISO_8859_1);
                    start = scanned + 1;
                    return line;
                }
            }
            int offset = scanned - start;
            if (fill(deadline) == -1) {
                return null;
            }
            scanned = start + offset;
        }
    }

    // ---------------------------------------------------------------- buffer

    private int available() {
        return end - start;
    }

    private byte[] take(int n) {
        byte[] bytes = Arrays.copyOfRange(buffer, start, start + n);
        start += n;
        return bytes;
    }

    /**
     * Reads more bytes into the buffer: their count, or -1 at the end of the stream (a reset counts as one; the
     * kernel already dropped anything unread behind it).
     */
    private int fill(long deadline) throws IOException {
        if (endOfStream) {
            return -1;
        }
        if (start > 0) {
            System.arraycopy(buffer, start, buffer, 0, end - start);
            end -= start;
            start = 0;
        }
        if (end == buffer.length) {
            buffer = Arrays.copyOf(buffer, buffer.length * 2);
        }
        long remainingMillis = (deadline - System.nanoTime()) / 1_000_000;
        if (remainingMillis <= 0) {
            throw new SocketTimeoutException("read timed out");
        }
        socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, remainingMillis));
        int n;
        try {
            n = in.read(buffer, end, buffer.length - end);
        } catch (SocketTimeoutException e) {
            throw e;
        } catch (SocketException e) {
            n = -1; // connection reset by peer
        }
        if (n == -1) {
            endOfStream = true;
            return -1;
        }
        end += n;
        return n;
    }

    private static long deadline(Duration timeout) {
        return System.nanoTime() + timeout.toNanos();
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing to do about a failing close
        }
    }
}
