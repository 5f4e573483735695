package io.gatehouse.app.cache;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class XFetchTest {
    private final XFetch x = new XFetch(1.0);

    @Test
    void farFromExpiryAlmostNeverRefreshes() {
        // 60 s left, 10 ms recompute: needs -ln(u) >= 6000, i.e. u <= e^-6000
        assertThat(x.shouldRefresh(0, 10, 60_000, 0.5)).isFalse();
        assertThat(x.shouldRefresh(0, 10, 60_000, 1e-300)).isFalse();
    }

    @Test
    void nearExpiryRefreshesMoreOftenTheSlowerTheRecompute() {
        // 50 ms left: a 10 ms recompute refreshes when -ln(u) >= 5 (u <= 0.0067); a 100 ms one when -ln(u) >= 0.5
        assertThat(x.shouldRefresh(0, 10, 50, 0.5)).isFalse();
        assertThat(x.shouldRefresh(0, 10, 50, 0.005)).isTrue();
        assertThat(x.shouldRefresh(0, 100, 50, 0.5)).isTrue();
    }

    @Test
    void atOrPastExpiryAlwaysRefreshes() {
        assertThat(x.shouldRefresh(1000, 1, 1000, 1.0)).isTrue();
    }

    @Test
    void refreshProbabilityRisesAsExpiryNears() {
        java.util.Random rnd = new java.util.Random(42);
        int far = 0, near = 0;
        for (int i = 0; i < 100_000; i++) {
            double u = 1.0 - rnd.nextDouble();
            if (x.shouldRefresh(0, 20, 200, u)) far++;
            if (x.shouldRefresh(0, 20, 40, u)) near++;
        }
        // P = e^(-gap/delta): e^-10 ≈ 0.00005 vs e^-2 ≈ 0.135
        assertThat(far).isLessThan(50);
        assertThat(near).isBetween(12_500, 14_500);
    }
}
