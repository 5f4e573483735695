package io.gatehouse.app.jobs;

import io.gatehouse.app.App;
import io.gatehouse.app.Engines;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A three-node ZooKeeper ensemble loses the node the leader talks to: registrations and leadership carry on. The
 * waits are bounds for a hang (a quorum election and a reconnect in real time, slower on a loaded machine), not
 * timing claims.
 */
@ExtendWith(Engines.class)
class ZooKeeperEnsembleTest {
    static TestingCluster ensemble;
    static final List<App> apps = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        ensemble = new TestingCluster(3);
        ensemble.start();
        for (int i = 1; i <= 2; i++) {
            apps.add(App.start(Engines.config("ensemble-" + i).withZookeeper(ensemble.getConnectString())
                    .withJobInterval(Duration.ofMillis(400))));
        }
    }

    @AfterAll
    static void stop() throws Exception {
        apps.forEach(App::close);
        ensemble.close();
    }

    @Test
    void losingOneNodeKeepsRegistrationsLeadershipAndJobs() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> apps.stream().filter(a -> a.jobs().leader()).count() == 1);
        App leader = apps.stream().filter(a -> a.jobs().leader()).findFirst().orElseThrow();
        InstanceSpec node = ensemble.findConnectionInstance(leader.registration().client().getZookeeperClient().getZooKeeper());
        assertThat(ensemble.killServer(node)).isTrue();

        // The client moves to a surviving node within its session timeout; the session, its ephemeral
        // registration and the latch survive because a quorum (2 of 3) remains.
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> {
            assertThat(apps.get(0).registration().connected()).isTrue();
            assertThat(apps.get(1).registration().connected()).isTrue();
            assertThat(apps.get(0).registration().instances()).containsOnlyKeys("ensemble-1", "ensemble-2");
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> apps.stream().filter(a -> a.jobs().leader()).count() == 1);
        int runsBefore = apps.stream().mapToInt(a -> a.jobs().runs().size()).sum();
        await().atMost(Duration.ofSeconds(30)).until(() -> apps.stream().mapToInt(a -> a.jobs().runs().size()).sum() >= runsBefore + 4);

        List<PeriodicJobs.Run> all = new ArrayList<>();
        apps.forEach(a -> all.addAll(a.jobs().runs()));
        assertThat(new HashSet<>(all)).hasSameSizeAs(all); // no slot run twice through the disturbance
    }
}
