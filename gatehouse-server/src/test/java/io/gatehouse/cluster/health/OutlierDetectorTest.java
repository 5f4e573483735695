package io.gatehouse.cluster.health;

import io.gatehouse.cluster.Endpoint;
import io.gatehouse.config.ClusterConfig.OutlierDetectionConfig;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class OutlierDetectorTest {
    private final MockTicker ticker = Ticker.newMockTicker();
    // An event loop driven by the mock ticker: expiry tasks run when the test advances time and runs them.
    private final EmbeddedChannel loop = EmbeddedChannel.builder().ticker(ticker).build();
    private final AtomicInteger changes = new AtomicInteger();

    @AfterEach
    void closeLoop() {
        loop.finishAndReleaseAll();
    }

    private List<Endpoint> endpoints(int n) {
        List<Endpoint> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(new Endpoint("10.0.0." + (i + 1) + ":80", new InetSocketAddress("10.0.0." + (i + 1), 80), 1, false, ticker));
        }
        return list;
    }

    private OutlierDetector detector(OutlierDetectionConfig config, List<Endpoint> endpoints) {
        return new OutlierDetector("api", config, endpoints, ticker, loop.eventLoop(), changes::incrementAndGet);
    }

    private static OutlierDetectionConfig config(int c5xx, int gateway, int baseSeconds, int maxSeconds, int percent) {
        return new OutlierDetectionConfig(c5xx, gateway, Duration.ofSeconds(baseSeconds), Duration.ofSeconds(maxSeconds), percent);
    }

    private void advanceSeconds(long seconds) {
        ticker.advance(seconds, TimeUnit.SECONDS);
        loop.runScheduledPendingTasks();
    }

    @Test
    void ejectsAfterConsecutive5xxThreshold() {
        List<Endpoint> eps = endpoints(4);
        Endpoint e = eps.get(0);
        OutlierDetector detector = detector(config(5, 3, 30, 300, 50), eps);
        for (int i = 0; i < 4; i++) detector.on5xx(e);
        assertThat(e.available(ticker.nanoTime())).isTrue();
        assertThat(changes).hasValue(0);
        assertThat(detector.status(e).consecutive5xx()).isEqualTo(4);

        detector.on5xx(e);
        assertThat(e.available(ticker.nanoTime())).isFalse();
        assertThat(e.ejectedUntilNanos()).isEqualTo(ticker.nanoTime() + TimeUnit.SECONDS.toNanos(30));
        assertThat(e.ejections()).isEqualTo(1);
        assertThat(changes).hasValue(1);
        assertThat(detector.status(e).consecutive5xx()).isZero();
    }

    @Test
    void successResetsTheRun() {
        List<Endpoint> eps = endpoints(4);
        Endpoint e = eps.get(0);
        OutlierDetector detector = detector(config(5, 3, 30, 300, 50), eps);
        for (int i = 0; i < 4; i++) detector.on5xx(e);
        detector.onSuccess(e);
        for (int i = 0; i < 4; i++) detector.on5xx(e);
        assertThat(e.ejected(ticker.nanoTime())).isFalse();
        detector.on5xx(e);
        assertThat(e.ejected(ticker.nanoTime())).isTrue();
    }

    @Test
    void gatewayFailuresEjectAtTheirOwnThresholdAndAResponseBreaksTheirRun() {
        List<Endpoint> eps = endpoints(4);
        Endpoint e = eps.get(0);
        OutlierDetector detector = detector(config(0, 3, 30, 300, 50), eps);
        detector.onGatewayFailure(e);
        detector.onGatewayFailure(e);
        detector.on5xx(e);
        detector.onGatewayFailure(e);
        detector.onGatewayFailure(e);
        assertThat(e.ejected(ticker.nanoTime())).isFalse();
        detector.onGatewayFailure(e);
        assertThat(e.ejected(ticker.nanoTime())).isTrue();
    }

    @Test
    void gatewayFailuresAlsoCountAs5xx() {
        List<Endpoint> eps = endpoints(4);
        Endpoint e = eps.get(0);
        OutlierDetector detector = detector(config(3, 0, 30, 300, 50), eps);
        detector.on5xx(e);
        detector.onGatewayFailure(e);
        assertThat(e.ejected(ticker.nanoTime())).isFalse();
        detector.onGatewayFailure(e);
        assertThat(e.ejected(ticker.nanoTime())).isTrue();
    }

    @Test
    void zeroThresholdsDisableBothTriggers() {
        List<Endpoint> eps = endpoints(4);
        Endpoint e = eps.get(0);
        OutlierDetector detector = detector(config(0, 0, 30, 300, 50), eps);
        for (int i = 0; i < 100; i++) {
            detector.on5xx(e);
            detector.onGatewayFailure(e);
        }
        assertThat(e.ejections()).isZero();
        assertThat(changes).hasValue(0);
    }

    @Test
    void ejectionTimeGrowsWithEachEjectionUpToTheMaximum() {
        List<Endpoint> eps = endpoints(4);
        Endpoint e = eps.get(0);
        OutlierDetector detector = detector(config(1, 0, 10, 25, 50), eps);
        long[] expectedSeconds = {10, 20, 25, 25};
        for (long seconds : expectedSeconds) {
            long now = ticker.nanoTime();
            detector.on5xx(e);
            assertThat(e.ejectedUntilNanos() - now).isEqualTo(TimeUnit.SECONDS.toNanos(seconds));
            advanceSeconds(seconds);
            assertThat(e.available(ticker.nanoTime())).isTrue();
        }
        assertThat(e.ejections()).isEqualTo(4);
    }

    @Test
    void maxEjectionPercentKeepsHalfOfFourEndpointsInService() {
        List<Endpoint> eps = endpoints(4);
        OutlierDetector detector = detector(config(1, 0, 30, 300, 50), eps);
        detector.on5xx(eps.get(0));
        advanceSeconds(1);
        detector.on5xx(eps.get(1));
        detector.on5xx(eps.get(2));
        long now = ticker.nanoTime();
        assertThat(eps.get(0).ejected(now)).isTrue();
        assertThat(eps.get(1).ejected(now)).isTrue();
        assertThat(eps.get(2).ejected(now)).isFalse();
        assertThat(changes).hasValue(2);

        // When the first ejection ends, the endpoint that was spared is ejected on its next failure.
        advanceSeconds(29);
        assertThat(eps.get(0).available(ticker.nanoTime())).isTrue();
        detector.on5xx(eps.get(2));
        assertThat(eps.get(2).ejected(ticker.nanoTime())).isTrue();
    }

    @Test
    void aSmallPercentStillAllowsOneEjectionButZeroAllowsNone() {
        List<Endpoint> eps = endpoints(4);
        OutlierDetector detector = detector(config(1, 0, 30, 300, 10), eps);
        detector.on5xx(eps.get(0));
        detector.on5xx(eps.get(1));
        assertThat(eps.get(0).ejected(ticker.nanoTime())).isTrue();
        assertThat(eps.get(1).ejected(ticker.nanoTime())).isFalse();

        List<Endpoint> others = endpoints(4);
        OutlierDetector never = detector(config(1, 0, 30, 300, 0), others);
        never.on5xx(others.get(0));
        assertThat(others.get(0).ejections()).isZero();
    }

    @Test
    void expiryRestoresAvailabilityRestartsSlowStartAndNotifies() {
        List<Endpoint> eps = endpoints(4);
        Endpoint e = eps.get(0);
        OutlierDetector detector = detector(config(5, 3, 30, 300, 50), eps);
        for (int i = 0; i < 5; i++) detector.on5xx(e);
        assertThat(changes).hasValue(1);

        advanceSeconds(29);
        assertThat(e.available(ticker.nanoTime())).isFalse();
        assertThat(changes).hasValue(1);

        advanceSeconds(1);
        long now = ticker.nanoTime();
        assertThat(e.available(now)).isTrue();
        assertThat(e.ejectedUntilNanos()).isZero();
        assertThat(e.availableSinceNanos()).isEqualTo(now);
        assertThat(changes).hasValue(2);
        assertThat(detector.status(e).ejections()).isEqualTo(1);
    }

    @Test
    void closeCancelsPendingExpiryNotifications() {
        List<Endpoint> eps = endpoints(4);
        Endpoint e = eps.get(0);
        OutlierDetector detector = detector(config(1, 0, 30, 300, 50), eps);
        detector.on5xx(e);
        detector.close();
        advanceSeconds(30);
        assertThat(e.available(ticker.nanoTime())).isTrue();
        assertThat(changes).hasValue(1);
    }

    @Test
    void concurrent5xxFromTwoThreadsEjectExactlyOncePerThresholdCrossing() throws Exception {
        for (int round = 0; round < 200; round++) {
            List<Endpoint> eps = endpoints(4);
            Endpoint e = eps.get(0);
            OutlierDetector detector = detector(config(5, 0, 30, 300, 50), eps);
            CyclicBarrier start = new CyclicBarrier(2);
            Runnable fail5Times = () -> {
                try {
                    start.await();
                } catch (Exception ex) {
                    throw new IllegalStateException(ex);
                }
                for (int i = 0; i < 5; i++) detector.on5xx(e);
            };
            Thread a = new Thread(fail5Times);
            Thread b = new Thread(fail5Times);
            a.start();
            b.start();
            a.join();
            b.join();
            // 10 failures in a row cross the threshold at the 5th; the rest land on an ejected endpoint.
            assertThat(e.ejections()).as("round %d", round).isEqualTo(1);
            assertThat(e.ejected(ticker.nanoTime())).isTrue();
            detector.close();
        }
    }
}
