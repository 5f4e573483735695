package io.gatehouse.cluster.health;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny HTTP/1.1 origin on a real socket (plain blocking I/O on its own threads, independent of the code under
 * test): answers each request with the next scripted status, then the default one, or never answers when told to
 * hang. Records every request head.
 */
final class ScriptedHealthServer implements AutoCloseable {
    private final ServerSocket serverSocket;
    private final Queue<Integer> script = new ConcurrentLinkedQueue<>();
    private final List<List<String>> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger closedByPeer = new AtomicInteger();
    private volatile int defaultStatus = 200;
    private volatile boolean hang;

    ScriptedHealthServer() throws IOException {
        serverSocket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().name("scripted-health-server").start(this::acceptLoop);
    }

    int port() { return serverSocket.getLocalPort(); }
    InetSocketAddress address() { return new InetSocketAddress(InetAddress.getLoopbackAddress(), port()); }

    ScriptedHealthServer respondWith(int status) { defaultStatus = status; return this; }
    ScriptedHealthServer script(int... statuses) { for (int s : statuses) script.add(s); return this; }
    ScriptedHealthServer hang(boolean hang) { this.hang = hang; return this; }

    int requestCount() { return requests.size(); }
    List<String> request(int index) { return requests.get(index); }
    int connections() { return connections.get(); }
    /** Connections the client closed (EOF) while this server was still waiting to read or to answer. */
    int closedByPeer() { return closedByPeer.get(); }

    private void acceptLoop() {
        while (!serverSocket.isClosed()) {
            try {
                Socket socket = serverSocket.accept();
                connections.incrementAndGet();
                Thread.ofVirtual().start(() -> serve(socket));
            } catch (IOException e) {
                return;   // closed
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            List<String> head = new ArrayList<>();
            for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) head.add(line);
            if (head.isEmpty()) {
                closedByPeer.incrementAndGet();   // a tcp check: connected and left
                return;
            }
            requests.add(List.copyOf(head));
            if (hang) {
                while (in.read() >= 0) { /* wait for the client to give up */ }
                closedByPeer.incrementAndGet();
                return;
            }
            Integer scripted = script.poll();
            int status = scripted != null ? scripted : defaultStatus;
            OutputStream out = socket.getOutputStream();
            out.write(("HTTP/1.1 " + status + " X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        } catch (IOException e) {
            closedByPeer.incrementAndGet();
        }
    }

    @Override
    public void close() throws IOException {
        serverSocket.close();
    }
}
