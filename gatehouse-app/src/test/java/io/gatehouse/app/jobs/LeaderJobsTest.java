package io.gatehouse.app.jobs;

import io.gatehouse.app.App;
import io.gatehouse.app.Engines;
import io.gatehouse.app.discovery.EmbeddedZooKeeper;
import io.gatehouse.app.links.Link;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Registration in ZooKeeper and the leader-run periodic jobs, with three instances and a leader that dies. The waits
 * are bounds for a hang, not timing claims: a handover rides on ZooKeeper's real-time session expiry (5 s, checked
 * in ticks) and a loaded machine can add seconds to it.
 */
@ExtendWith(Engines.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // the second test runs on the two instances the first leaves
class LeaderJobsTest {
    static EmbeddedZooKeeper zk;
    static final List<App> apps = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        zk = EmbeddedZooKeeper.start(0, null);
        for (int i = 1; i <= 3; i++) {
            apps.add(App.start(Engines.config("jobs-" + i).withZookeeper(zk.connectString()).withJobInterval(Duration.ofMillis(400))));
        }
    }

    @AfterAll
    static void stop() throws Exception {
        apps.forEach(App::close);
        zk.close();
    }

    static List<App> leaders() {
        return apps.stream().filter(a -> a.jobs().leader()).toList();
    }

    @Test
    @Order(1)
    void anotherInstanceTakesOverWhenTheLeaderDiesAndNoRunIsDoubled() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> leaders().size() == 1);
        assertThat(apps.get(0).registration().instances()).containsOnlyKeys("jobs-1", "jobs-2", "jobs-3");
        App first = leaders().get(0);
        await().atMost(Duration.ofSeconds(15)).until(() -> first.jobs().runs().size() >= 4);

        // An expiring link is swept by whoever leads. Its expiry must still be ahead when the create checks it (on
        // the system clock): 2 s, so a stall between here and there does not get the create refused.
        Link expiring = first.links().create("jobs-owner", "https://example.com/exp", null, Instant.now().plusSeconds(2), false).value();

        List<PeriodicJobs.Run> firstRuns = first.jobs().runs();
        first.close();
        apps.remove(first);
        // ZooKeeper drops its registration and its latch node; another instance leads within the session timeout.
        await().atMost(Duration.ofSeconds(30)).until(() -> leaders().size() == 1);
        App second = leaders().get(0);
        assertThat(second).isNotSameAs(first);
        assertThat(apps.get(0).registration().instances()).hasSize(2).doesNotContainKey(first.instanceId());
        await().atMost(Duration.ofSeconds(15)).until(() -> second.jobs().runs().size() >= 4);

        await().atMost(Duration.ofSeconds(30)).until(() -> second.database().onPrimary(c -> {
            try (PreparedStatement s = c.prepareStatement("select count(*) from links where code = ?")) {
                s.setString(1, expiring.code());
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    return rs.getLong(1) == 0;
                }
            }
        }));

        // No (job, slot) was run twice, by the old leader, the new one, or anyone else.
        List<PeriodicJobs.Run> all = new ArrayList<>(firstRuns);
        apps.forEach(a -> all.addAll(a.jobs().runs()));
        Set<PeriodicJobs.Run> distinct = new HashSet<>(all);
        assertThat(all).hasSameSizeAs(distinct);
        long followerRuns = apps.stream().filter(a -> a != second).mapToLong(a -> a.jobs().runs().size()).sum();
        assertThat(followerRuns).isZero(); // followers did not even try
    }

    @Test
    @Order(2)
    void aLeaderWhoseSessionExpiresIsReplacedAndNoRunIsDoubled() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> leaders().size() == 1);
        App old = leaders().get(0);
        int before = apps.stream().mapToInt(a -> a.jobs().runs().size()).sum();
        // What ZooKeeper sees when a leader's process dies or stalls past the session timeout: its session expires
        // and its latch node is gone. The instance itself keeps running, as a stalled leader would.
        old.registration().client().getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();

        await().atMost(Duration.ofSeconds(30)).until(() -> leaders().size() == 1 && leaders().get(0) != old);
        App next = leaders().get(0);
        await().atMost(Duration.ofSeconds(15)).until(() -> next.jobs().runs().size() >= 4);
        // The old leader gets a new session and comes back as a follower; it stays registered.
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> {
            assertThat(old.registration().connected()).isTrue();
            assertThat(next.registration().instances()).containsKey(old.instanceId());
        });
        assertThat(apps.stream().mapToInt(a -> a.jobs().runs().size()).sum()).isGreaterThan(before);
        List<PeriodicJobs.Run> all = new ArrayList<>();
        apps.forEach(a -> all.addAll(a.jobs().runs()));
        assertThat(new HashSet<>(all)).hasSameSizeAs(all); // no (job, slot) run by the old and the new leader both
    }
}
