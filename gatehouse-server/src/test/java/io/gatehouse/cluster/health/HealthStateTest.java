package io.gatehouse.cluster.health;

import org.junit.jupiter.api.Test;

import static io.gatehouse.cluster.health.HealthTransition.CHANGED;
import static io.gatehouse.cluster.health.HealthTransition.CHANGE_PENDING;
import static io.gatehouse.cluster.health.HealthTransition.UNCHANGED;
import static org.assertj.core.api.Assertions.assertThat;

class HealthStateTest {

    @Test
    void startsHealthyBeforeAnyCheck() {
        HealthState state = new HealthState(2, 3);
        assertThat(state.healthy()).isTrue();
        assertThat(state.checked()).isFalse();
    }

    @Test
    void firstFailedCheckMarksUnhealthyAtOnce() {
        HealthState state = new HealthState(2, 3);
        assertThat(state.recordFailure()).isEqualTo(CHANGED);
        assertThat(state.healthy()).isFalse();
        assertThat(state.consecutiveFailures()).isEqualTo(1);
    }

    @Test
    void afterASuccessOnlyUnhealthyThresholdFailuresInARowMarkUnhealthy() {
        HealthState state = new HealthState(2, 3);
        assertThat(state.recordSuccess()).isEqualTo(UNCHANGED);
        assertThat(state.recordFailure()).isEqualTo(CHANGE_PENDING);
        assertThat(state.recordFailure()).isEqualTo(CHANGE_PENDING);
        assertThat(state.healthy()).isTrue();
        assertThat(state.recordFailure()).isEqualTo(CHANGED);
        assertThat(state.healthy()).isFalse();
        assertThat(state.recordFailure()).isEqualTo(UNCHANGED);
        assertThat(state.consecutiveFailures()).isEqualTo(4);
    }

    @Test
    void aSuccessBreaksARunOfFailures() {
        HealthState state = new HealthState(2, 3);
        state.recordSuccess();
        state.recordFailure();
        state.recordFailure();
        assertThat(state.recordSuccess()).isEqualTo(UNCHANGED);
        assertThat(state.consecutiveFailures()).isZero();
        assertThat(state.recordFailure()).isEqualTo(CHANGE_PENDING);
        assertThat(state.recordFailure()).isEqualTo(CHANGE_PENDING);
        assertThat(state.healthy()).isTrue();
    }

    @Test
    void unhealthyRecoversAfterHealthyThresholdSuccessesInARow() {
        HealthState state = new HealthState(3, 1);
        state.recordFailure();
        assertThat(state.recordSuccess()).isEqualTo(CHANGE_PENDING);
        assertThat(state.recordSuccess()).isEqualTo(CHANGE_PENDING);
        assertThat(state.recordFailure()).isEqualTo(UNCHANGED);
        assertThat(state.recordSuccess()).isEqualTo(CHANGE_PENDING);
        assertThat(state.recordSuccess()).isEqualTo(CHANGE_PENDING);
        assertThat(state.healthy()).isFalse();
        assertThat(state.recordSuccess()).isEqualTo(CHANGED);
        assertThat(state.healthy()).isTrue();
        assertThat(state.consecutiveSuccesses()).isEqualTo(3);
    }

    @Test
    void jitterSpreadsTheIntervalEvenlyAroundItsValue() {
        long interval = 1_000_000_000L;
        assertThat(HealthChecker.jittered(interval, 0.1, 0.0)).isEqualTo(900_000_000L);
        assertThat(HealthChecker.jittered(interval, 0.1, 0.5)).isEqualTo(interval);
        assertThat(HealthChecker.jittered(interval, 0.1, 0.999_999)).isBetween(1_099_000_000L, 1_100_000_000L);
        assertThat(HealthChecker.jittered(interval, 0.0, 0.123)).isEqualTo(interval);
        assertThat(HealthChecker.jittered(interval, 1.0, 0.0)).isPositive();
    }
}
