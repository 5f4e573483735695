package io.gatehouse;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Tests that drive a tool from outside the JVM (Chromium, curl with HTTP/2) or a native library: on a developer's
 * machine without it the test is skipped with the reason, but in CI ({@code CI=true}, as {@code .ci/run} sets and as
 * hosted CI services set) it fails, so a build cannot go green with the test silently not run.
 */
public final class Prerequisites {
    private Prerequisites() {
    }

    /** Whether this run is CI, where every prerequisite must be present. */
    public static boolean inCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** Passes when {@code present}; otherwise fails in CI and skips elsewhere, with {@code what} as the reason. */
    public static void require(boolean present, String what) {
        if (present) return;
        if (inCi()) Assertions.fail("missing in CI (CI=true), so this test cannot run: " + what);
        Assumptions.abort("skipped (not CI): " + what);
    }
}
