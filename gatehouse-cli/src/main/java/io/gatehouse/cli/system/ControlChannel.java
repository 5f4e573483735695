package io.gatehouse.cli.system;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * How {@code gatehouse db promote} reaches a running {@code gatehouse up}: a loopback-only HTTP listener whose port
 * is written to {@code $GATEHOUSE_HOME/control.port} (readable by the owner of that folder, like the data itself).
 */
public final class ControlChannel implements AutoCloseable {
    public static final String PORT_FILE = "control.port";
    private final HttpServer server;
    private final Path portFile;

    private ControlChannel(HttpServer server, Path portFile) {
        this.server = server;
        this.portFile = portFile;
    }

    /**
     * Serves {@code POST /db/promote} with {@code promote} and {@code POST /apps/<id>/stop} with {@code stopApp};
     * each returns a one-line outcome.
     */
    public static ControlChannel open(Path home, Supplier<String> promote, java.util.function.Function<String, String> stopApp)
            throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
        server.createContext("/", ex -> {
            int status = 200;
            String body;
            String path = ex.getRequestURI().getPath();
            java.util.regex.Matcher app = java.util.regex.Pattern.compile("/apps/([A-Za-z0-9-]+)/stop").matcher(path);
            if (!"POST".equals(ex.getRequestMethod())) {
                status = 405;
                body = "use POST";
            } else {
                try {
                    if (path.equals("/db/promote")) {
                        body = promote.get();
                    } else if (app.matches()) {
                        body = stopApp.apply(app.group(1));
                    } else {
                        status = 404;
                        body = "POST /db/promote or /apps/<id>/stop";
                    }
                } catch (RuntimeException e) {
                    status = 409;
                    body = "failed: " + e.getMessage();
                }
            }
            byte[] bytes = (body + "\n").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status, bytes.length);
            ex.getResponseBody().write(bytes);
            ex.close();
        });
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        Path portFile = home.resolve(PORT_FILE);
        Files.writeString(portFile, Integer.toString(server.getAddress().getPort()));
        return new ControlChannel(server, portFile);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        try {
            Files.deleteIfExists(portFile);
        } catch (IOException e) {
            // a stale file only makes `db promote` report that nothing answers
        }
    }
}
