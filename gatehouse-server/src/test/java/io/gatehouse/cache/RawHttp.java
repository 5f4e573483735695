package io.gatehouse.cache;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A minimal HTTP/1.1 client over a plain socket, so a test can name the {@code Host} (the cache key's host stays the
 * same when a restarted server listens on another port).
 */
final class RawHttp {
    record Response(int status, Map<String, String> headers, byte[] body) {
        String header(String name) { return headers.get(name.toLowerCase(Locale.ROOT)); }
        String text() { return new String(body, StandardCharsets.ISO_8859_1); }
    }

    private RawHttp() {}

    /** Opens a connection and sends a GET for {@code path} with {@code Connection: close}. */
    static Socket send(int port, String host, String path) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(30_000);
        s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
        return s;
    }

    static Response get(int port, String host, String path) throws IOException {
        try (Socket s = send(port, host, path)) {
            return read(s.getInputStream());
        }
    }

    /** Reads the head, then the body to the end of the connection (the request said close). */
    static Response read(InputStream in) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        String status = line(in);
        for (String l = line(in); !l.isEmpty(); l = line(in)) {
            int colon = l.indexOf(':');
            headers.merge(l.substring(0, colon).strip().toLowerCase(Locale.ROOT), l.substring(colon + 1).strip(), (a, b) -> a + ", " + b);
        }
        byte[] body = in.readAllBytes();
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) body = dechunk(body);
        return new Response(Integer.parseInt(status.split(" ")[1]), headers, body);
    }

    static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) throw new IOException("connection closed in the head");
            if (c != '\r') b.append((char) c);
        }
        return b.toString();
    }

    private static byte[] dechunk(byte[] raw) throws IOException {
        var in = new java.io.ByteArrayInputStream(raw);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int n = Integer.parseInt(line(in).split(";")[0].strip(), 16); n > 0; n = Integer.parseInt(line(in).split(";")[0].strip(), 16)) {
            out.write(in.readNBytes(n));
            line(in);
        }
        return out.toByteArray();
    }
}
