package io.gatehouse.cli.system;

import io.gatehouse.Gatehouse;
import io.gatehouse.cli.GatehouseCommand;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code gatehouse load --path} through a real edge to a real backend: the warm-up runs in the generator's own JVM,
 * is reported on its own line and is not in the figures; its length follows the JIT (settled or --warmup-max).
 */
class LoadCommandTest {
    static TestBackend backend;
    static Gatehouse edge;

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.started("origin");
        edge = Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [{name: all, cluster: origin}]
                clusters: [{name: origin, endpoints: ["%s"]}]
                admin: {address: "off"}
                """.formatted(backend.address()), "load.yaml"));
    }

    @AfterAll
    static void stop() {
        if (edge != null) edge.close();
        if (backend != null) backend.close();
    }

    @BeforeEach
    void clear() {
        backend.reset();
    }

    private static String load(String... args) {
        StringWriter out = new StringWriter();
        String[] all = new String[args.length + 2];
        all[0] = "load";
        all[1] = "--target=http://127.0.0.1:" + edge.listenerAddress("edge").getPort();
        System.arraycopy(args, 0, all, 2, args.length);
        int code = GatehouseCommand.commandLine().setOut(new PrintWriter(out, true)).execute(all);
        assertThat(code).as(out.toString()).isZero();
        return out.toString();
    }

    private static long number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as(regex + " in\n" + text).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    void theWarmUpStopsOnceTheJitSettledAndIsNotInTheFigures() {
        // a threshold any slice meets: settled as soon as the minimum warm-up is done
        String out = load("--path", "/w", "--rate", "100", "--duration", "1", "--warmup", "1", "--warmup-max", "5",
                "--jit-settled", "1000000");
        String warm = out.lines().filter(l -> l.startsWith("warm-up")).findFirst().orElseThrow(() -> new AssertionError(out));
        assertThat(warm).contains("not in the figures", "1 s at 100/s", "until this JVM's JIT settled", "generator lateness p99");
        assertThat(number(warm, "sent (\\d+)")).isEqualTo(100);
        // the measured run is the duration's requests alone, with latency from the intended send and the lateness
        assertThat(number(out, "(?m)^sent (\\d+)")).isEqualTo(100);
        assertThat(out).contains("latency from the intended send time", "generator lateness, due to sent", "generator JVM during the run");
        // and the edge really carried both: warm-up plus measured run
        assertThat(backend.requestCount()).isEqualTo(200);
    }

    @Test
    void aJitThatDoesNotSettleStopsTheWarmUpAtItsMaximumAndSaysSo() {
        // no slice compiles for less than 0 ms: the warm-up runs to --warmup-max and says the JIT was still busy
        String out = load("--path", "/w", "--rate", "100", "--duration", "1", "--warmup", "1", "--warmup-max", "3",
                "--jit-settled", "0");
        String warm = out.lines().filter(l -> l.startsWith("warm-up")).findFirst().orElseThrow(() -> new AssertionError(out));
        assertThat(warm).contains("3 s at 100/s", "the JIT did not settle");
        assertThat(number(warm, "sent (\\d+)")).isEqualTo(300);
        assertThat(number(out, "(?m)^sent (\\d+)")).isEqualTo(100);
        assertThat(backend.requestCount()).isEqualTo(400);
    }

    @Test
    void noWarmUpWhenAskedForNone() {
        String out = load("--path", "/w", "--rate", "100", "--duration", "1", "--warmup", "0");
        assertThat(out).doesNotContain("warm-up");
        assertThat(backend.requestCount()).isEqualTo(100);
    }
}
