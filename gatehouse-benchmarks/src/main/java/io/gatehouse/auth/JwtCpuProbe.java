package io.gatehouse.auth;

import org.openjdk.jmh.infra.Blackhole;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * {@link JwtAuthBenchmark}'s cases measured in this thread's CPU time rather than wall time, so a machine shared
 * with other work (where JMH's wall-clock scores swing by 2x) still gives a usable figure: CPU ns per request
 * for no filter, a repeated token and a new RS256 token, the median of {@code rounds} rounds after a warm-up.
 * Run: {@code java -cp gatehouse-benchmarks/target/benchmarks.jar io.gatehouse.auth.JwtCpuProbe [rounds [stages]]}
 * ({@code stages}: {@link JwtNewTokenStagesBenchmark}'s stages instead, beside the whole new token); add
 * {@code -Dgatehouse.rsa.provider=jdk} for the JDK's RSA.
 */
public final class JwtCpuProbe {
    private JwtCpuProbe() {}

    private interface Stage {
        Object run() throws Exception;
    }

    private static Runnable quiet(Stage s) {
        return () -> {
            try {
                s.run();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        JwtAuthBenchmark b = new JwtAuthBenchmark();
        b.setUp(new Blackhole("Today's password is swordfish. I understand instantiating Blackholes directly is dangerous."));
        String rsa;
        try {
            var m = Class.forName("io.gatehouse.auth.RsaSignatures").getDeclaredMethod("provider");
            m.setAccessible(true);
            rsa = (String) m.invoke(null);
        } catch (ReflectiveOperationException e) {
            rsa = "nimbus RSASSAVerifier (SunRsaSign)";   // a build from before RsaSignatures
        }
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        String[] names = {"noFilter", "repeatedToken", "newTokenRs256"};
        Runnable[] cases = {b::noFilter, b::repeatedToken, b::newTokenRs256};
        int[] perRound = {200_000, 200_000, 4_000};
        if (args.length > 1 && args[1].equals("stages")) {
            // JwtNewTokenStagesBenchmark's stages, in CPU time: where a new token's microseconds go
            JwtNewTokenStagesBenchmark st = new JwtNewTokenStagesBenchmark();
            st.setUp();
            names = new String[] {"newTokenRs256", "parse", "parseAndClaims", "signingInputAndSig", "signatureBase64",
                    "cacheKeySha256", "rsaVerifyJdkKey", "rsaVerifyAccpKey"};
            cases = new Runnable[] {b::newTokenRs256, quiet(st::parse), quiet(st::parseAndClaims), quiet(st::signingInputAndSignature),
                    quiet(st::signatureBase64), quiet(st::cacheKeySha256), quiet(st::rsaVerifyJdkKey), quiet(st::rsaVerifyAccpKey)};
            perRound = new int[] {4_000, 20_000, 20_000, 50_000, 50_000, 50_000, 4_000, 4_000};
        }
        for (int c = 0; c < cases.length; c++) {
            for (int i = 0; i < perRound[c] * 5; i++) cases[c].run();   // warm-up: JIT
            double[] ns = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                long t0 = mx.getCurrentThreadCpuTime();
                for (int i = 0; i < perRound[c]; i++) cases[c].run();
                ns[r] = (mx.getCurrentThreadCpuTime() - t0) / (double) perRound[c];
            }
            java.util.Arrays.sort(ns);
            System.out.printf("%-14s CPU ns/op: median %.0f (min %.0f, max %.0f, %d rounds) rsa=%s%n", names[c], ns[rounds / 2],
                    ns[0], ns[rounds - 1], rounds, rsa);
        }
    }
}
