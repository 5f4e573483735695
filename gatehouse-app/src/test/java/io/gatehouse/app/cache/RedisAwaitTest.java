package io.gatehouse.app.cache;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@link Redis#await}: the hot path's asynchronous call with no timed wait of its own. Its timeout is Lettuce's
 * command timeout alone, so this proves that bound holds: a Redis that stops answering fails the call after about
 * the timeout (not at once, not never), opens the switch, and the call works again once Redis answers.
 */
class RedisAwaitTest {
    static EmbeddedRedis server;
    static Redis redis;  // the 300 ms command timeout under test
    static Redis steady; // for what is not about the timeout: one a stall of a busy machine does not reach

    @BeforeAll
    static void start() throws Exception {
        server = EmbeddedRedis.start(0, "16mb", "allkeys-lru"); // its own: the test freezes it
        redis = new Redis(server.uri(), Duration.ofMillis(300), Duration.ofMillis(50));
        steady = new Redis(server.uri(), Duration.ofSeconds(10), Duration.ofMillis(50));
    }

    @AfterAll
    static void stop() throws Exception {
        steady.close();
        redis.close();
        server.close();
    }

    @Test
    void answersLikeTheSynchronousCall() {
        long trips = steady.trips();
        steady.call("SET", c -> c.set("await:a", "v1"));
        assertThat(steady.<String>await("GET", c -> c.get("await:a"))).isEqualTo("v1");
        assertThat(steady.<String>await("GET", c -> c.get("await:absent"))).isNull();
        assertThat(steady.<Long>await("DEL", c -> c.del("await:a"))).isEqualTo(1);
        assertThat(steady.trips()).isEqualTo(trips);
    }

    @Test
    void aRedisThatStopsAnsweringFailsTheCallAfterTheCommandTimeout() throws Exception {
        steady.call("SET", c -> c.set("await:k", "v1"));
        long trips = redis.trips();
        // The server holds every command (from other connections) for 8 s. The call must fail well before the pause
        // ends (else it would simply be answered then); the margin between the 300 ms timeout and the 6 s bound is
        // room for a stall of the machine, and still tells a timeout that works from one that never fires.
        pauseAllClients(8_000);
        long started = System.nanoTime();
        assertThatThrownBy(() -> redis.await("GET", c -> c.get("await:k"))).isInstanceOf(Redis.Unavailable.class);
        long waitedMs = (System.nanoTime() - started) / 1_000_000;
        assertThat(waitedMs).as("failed by the 300 ms command timeout").isBetween(250L, 6_000L);
        assertThat(redis.trips()).isEqualTo(trips + 1);
        // Once the pause ends (and the 50 ms switch lets a probe through), the same call answers again.
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                .untilAsserted(() -> assertThat(redis.<String>await("GET", c -> c.get("await:k"))).isEqualTo("v1"));
        assertThat(redis.up()).isTrue();
    }

    /** CLIENT PAUSE over a connection of its own, so the Lettuce connection under test sees a silent server. */
    private static void pauseAllClients(long millis) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            s.setSoTimeout(10_000);
            String ms = Long.toString(millis);
            String cmd = "*4\r\n$6\r\nCLIENT\r\n$5\r\nPAUSE\r\n$" + ms.length() + "\r\n" + ms + "\r\n$3\r\nALL\r\n";
            OutputStream out = s.getOutputStream();
            out.write(cmd.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] reply = new byte[5];
            assertThat(in.readNBytes(reply, 0, 5)).isEqualTo(5);
            assertThat(new String(reply, StandardCharsets.US_ASCII)).isEqualTo("+OK\r\n");
        }
    }
}
