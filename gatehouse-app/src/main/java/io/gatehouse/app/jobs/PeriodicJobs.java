package io.gatehouse.app.jobs;

import io.gatehouse.app.cache.Redis;
import io.gatehouse.app.db.Database;
import io.gatehouse.app.links.LinkCache;
import io.gatehouse.app.links.HitCounter;
import io.gatehouse.app.links.LinkStore;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The expired-link sweep and the hit roll-up, run by the instance that holds the leader latch.
 *
 * <p>Two layers, because leadership alone is not enough: a leader that stalls (GC, a frozen VM) keeps believing it
 * leads until it notices its session expired, while another instance has already taken over. So every run first
 * claims its time slot ({@code job_runs}, primary key job + slot) in the same database the job writes to; a
 * second claim of the same slot fails and that run is skipped. The latch keeps the other instances from even
 * trying; the slot claim makes a doubled run impossible. Without ZooKeeper every instance tries and the claim
 * alone decides.
 */
public final class PeriodicJobs implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PeriodicJobs.class);
    public static final String LEADER_PATH = "/gatehouse/leader/jobs";
    private static final String ROLLING = HitCounter.HITS_KEY + ":rolling";

    /** A run this instance did (tests check that no slot appears twice across instances). */
    public record Run(String job, long slot) {}

    private final String instance;
    private final Database db;
    private final LinkStore store;
    private final LinkCache cache;
    private final Redis redis;
    private final Clock clock;
    private final Duration interval;
    private final LeaderLatch latch; // null: no ZooKeeper
    private final ScheduledExecutorService timer;
    private final List<Run> runs = new CopyOnWriteArrayList<>();

    public PeriodicJobs(String instance, Database db, LinkStore store, LinkCache cache, Redis redis, Clock clock,
                        Duration interval, CuratorFramework zk) throws Exception {
        this.instance = instance;
        this.db = db;
        this.store = store;
        this.cache = cache;
        this.redis = redis;
        this.clock = clock;
        this.interval = interval;
        if (zk != null) {
            latch = new LeaderLatch(zk, LEADER_PATH, instance);
            latch.start();
        } else {
            latch = null;
        }
        timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("jobs-" + instance).factory());
        long every = interval.toMillis();
        timer.scheduleAtFixedRate(this::tick, every, every / 4, TimeUnit.MILLISECONDS);
    }

    public boolean leader() {
        return latch == null || latch.hasLeadership();
    }

    public List<Run> runs() {
        return List.copyOf(runs);
    }

    /** Checked four times per interval, so a new leader picks up the next slot promptly. */
    private void tick() {
        if (!leader()) return;
        long slot = clock.millis() / interval.toMillis();
        try {
            if (claim("sweep", slot)) {
                Map<String, Long> swept = db.write(c -> {
                    try (PreparedStatement s = c.prepareStatement("delete from job_runs where started_at < now() - interval '1 day'")) {
                        s.executeUpdate(); // the claims only need to outlive any leader's stall
                    }
                    return store.sweepExpired(c, clock.instant(), 1000);
                }).value();
                if (cache != null) swept.forEach((code, version) -> cache.invalidate(code, version, true));
                runs.add(new Run("sweep", slot));
                if (!swept.isEmpty()) log.atInfo().addKeyValue("deleted", swept.size()).log("expired links swept");
            }
            if (claim("rollup", slot)) {
                rollUpHits();
                runs.add(new Run("rollup", slot));
            }
        } catch (RuntimeException e) {
            log.atWarn().addKeyValue("error", String.valueOf(e.getMessage())).log("periodic job failed; the next slot retries");
        }
    }

    private boolean claim(String job, long slot) {
        return db.write(c -> {
            try (PreparedStatement s = c.prepareStatement(
                    "insert into job_runs (job, slot, instance) values (?, ?, ?) on conflict do nothing")) {
                s.setString(1, job);
                s.setLong(2, slot);
                s.setString(3, instance);
                return s.executeUpdate() == 1;
            }
        }).value();
    }

    /**
     * Moves the Redis counters to PostgreSQL. RENAME makes the batch atomic against concurrent HINCRBYs (new hits
     * go to a fresh hash); a batch left over by a failed run is retried first, so counts are not lost. They are
     * deleted from Redis only after the database commit, so a crash in between counts that one batch twice
     * (at-least-once); exactly-once would record the batch id in the same transaction.
     */
    private void rollUpHits() {
        if (redis == null) return;
        try {
            boolean leftover = redis.call(c -> c.exists(ROLLING)) > 0;
            if (!leftover) {
                if (redis.call(c -> c.exists(HitCounter.HITS_KEY)) == 0) return;
                redis.call(c -> c.rename(HitCounter.HITS_KEY, ROLLING));
            }
            Map<String, String> raw = redis.call(c -> c.hgetall(ROLLING));
            Map<String, Long> hits = new HashMap<>();
            raw.forEach((k, v) -> hits.put(k, Long.parseLong(v)));
            db.write(c -> {
                store.addHits(c, hits);
                return null;
            });
            redis.call(c -> c.del(ROLLING));
        } catch (Redis.Unavailable e) {
            // counts wait in Redis for the next run
        }
    }

    @Override
    public void close() throws java.io.IOException {
        timer.shutdownNow();
        try {
            timer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (latch != null) latch.close();
    }
}
