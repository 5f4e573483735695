package io.gatehouse.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.Gatehouse;
import redis.embedded.RedisServer;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * For tests of state that edges share through Redis: a real redis-server (embedded-redis) on a free port, and a JSON
 * client for the admin API of each edge.
 */
public final class SharedRedis implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final RedisServer server;
    private final int port;

    public SharedRedis() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        server = new RedisServer(port);
        server.start();
    }

    /**
     * How long a test waits for a change made through one edge to reach another: a bound for a hang, not the
     * promise. The promise is {@link SharedHash#POLL} plus two round trips, and {@code SharedHashTest} shows that a
     * copy reads a change on its next poll; a loaded machine can stall for a second, and timing is the benchmarks'.
     */
    public static final Duration REACHES_OTHER_EDGE = Duration.ofSeconds(10);

    public String address() {
        return "127.0.0.1:" + port;
    }

    /** Empties the Redis (FLUSHALL): a test class that runs again with fresh edges starts from nothing. */
    public void flush() {
        io.lettuce.core.RedisClient c = io.lettuce.core.RedisClient.create("redis://" + address());
        try (var conn = c.connect()) {
            conn.sync().flushall();
        } finally {
            c.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    /** An admin call's status, media type and JSON body. */
    public record Answer(int status, String contentType, JsonNode json) {}

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();

    /** {@code method path} on {@code edge}'s admin listener, with a JSON body or none. */
    public static Answer admin(Gatehouse edge, String method, String path, String body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.adminAddress().getPort() + path))
                    .timeout(Duration.ofSeconds(10))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            if (body != null) b.header("content-type", "application/json");
            HttpResponse<String> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r.headers().firstValue("content-type").orElse(""),
                    r.body().isBlank() ? null : JSON.readTree(r.body()));
        } catch (Exception e) {
            throw new AssertionError(method + " " + path + " failed: " + e, e);
        }
    }
}
