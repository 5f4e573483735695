package io.gatehouse.ratelimit;

import io.gatehouse.redis.Redis;
import io.micrometer.core.instrument.Counter;
import io.netty.channel.EventLoop;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code global} limits' decisions, batched per event loop: the decisions that every connection of a loop asks
 * for within one turn of the loop (and while the previous batch is in flight) go to Redis as one EVALSHA carrying
 * every bucket key, and the answers come back to that loop in one task. So a loop serving many connections pays one
 * round trip, one Redis command and one thread hop per batch, not per request, and the batch grows with the load
 * (at most one batch in flight per loop: what waits meanwhile goes in the next).
 *
 * <p>Exact: Redis runs the script atomically and decides the batch's requests one after another, in arrival order,
 * each against the bucket as the previous one left it, as separate scripts would; each request gets its own decision.
 * On Redis Cluster a script may only touch keys of one slot, so a batch is split by slot (one EVALSHA per slot, all
 * sent in the same turn).
 *
 * <p>Shared by every {@code rate_limit} of the process ({@link Redis#shared}): routes batch together.
 */
final class GlobalBuckets implements AutoCloseable {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(GlobalBuckets.class);
    /** At most this many decisions per script run: a long script holds Redis up for everyone. */
    static final int MAX_BATCH = 128;

    /**
     * Token buckets in Redis hashes, one per KEYS entry, decided in order. ARGV, per key: now (ms, the edge's clock: a
     * clock behind a bucket's last write refills nothing, so skew never adds tokens), the bucket's expiry (ms), its
     * number of limits n, and n pairs of capacity and refill rate (tokens per ms). Returns four numbers per key:
     * allowed (1/0), tokens left in the first limit, ms until a token (when refused), ms until the first limit is full.
     */
    static final Redis.Script SCRIPT = Redis.Script.of("""
            local p = 1
            local out = {}
            for j = 1, #KEYS do
              local stamp = ARGV[p]
              local now = tonumber(stamp)
              local ttl = ARGV[p + 1]
              local n = tonumber(ARGV[p + 2])
              p = p + 3
              local tokens = {}
              local stamps = {}
              local allowed = 1
              local wait = 0
              for i = 1, n do
                local cap = tonumber(ARGV[p + 2 * i - 2])
                local rate = tonumber(ARGV[p + 2 * i - 1])
                local v = redis.call('HMGET', KEYS[j], 't' .. i, 's' .. i)
                local t = tonumber(v[1])
                local ts = tonumber(v[2])
                if t == nil or ts == nil then t = cap; ts = now end
                -- time never goes back: an edge whose clock is behind must not make the next one refill twice
                if now > ts then t = math.min(cap, t + (now - ts) * rate); ts = now end
                tokens[i] = t
                stamps[i] = ts
                if t < 1 then
                  allowed = 0
                  local w = math.ceil((1 - t) / rate)
                  if w > wait then wait = w end
                end
              end
              for i = 1, n do
                if allowed == 1 then tokens[i] = tokens[i] - 1 end
                redis.call('HSET', KEYS[j], 't' .. i, tostring(tokens[i]), 's' .. i, tostring(stamps[i]))
              end
              redis.call('PEXPIRE', KEYS[j], ttl)
              local full = math.ceil((tonumber(ARGV[p]) - tokens[1]) / tonumber(ARGV[p + 1]))
              out[#out + 1] = allowed
              out[#out + 1] = math.floor(tokens[1])
              out[#out + 1] = wait
              out[#out + 1] = full
              p = p + 2 * n
            end
            return out
            """);

    /** Where a decision goes: on the requesting loop, with Redis's answer or why there is none. */
    interface Decided {
        void decided(boolean allowed, long remaining, long waitMillis, long fullMillis, Throwable error);
    }

    /** One request's decision to make: its bucket, and its ARGV (now, expiry, n, capacity/rate pairs). */
    private record Pending(String key, String[] limitArgs, Decided then, Counter trips) {}

    private final Redis redis;
    private final ConcurrentHashMap<EventLoop, Loop> loops = new ConcurrentHashMap<>();

    GlobalBuckets(Redis redis) {
        this.redis = redis;
    }

    static GlobalBuckets of(Redis redis) {
        return redis.shared(GlobalBuckets.class, () -> new GlobalBuckets(redis));
    }

    /**
     * Asks for one decision; {@code then} runs on {@code loop}. Called on {@code loop}.
     *
     * @param limitArgs now (ms), the bucket's expiry (ms), its number of limits, and a capacity and a rate per limit
     * @param trips     counted once for each round trip this request's route takes part in
     */
    void decide(EventLoop loop, String key, String[] limitArgs, Counter trips, Decided then) {
        loops.computeIfAbsent(loop, Loop::new).add(new Pending(key, limitArgs, then, trips));
    }

    /** Decisions of one event loop, touched only on that loop. */
    private final class Loop implements Runnable {
        private final EventLoop loop;
        private List<Pending> waiting = new ArrayList<>();
        private boolean scheduled;   // a flush is queued on the loop
        private int inFlight;        // batches sent and not answered

        Loop(EventLoop loop) {
            this.loop = loop;
        }

        void add(Pending p) {
            waiting.add(p);
            if (!scheduled && inFlight == 0) {
                // after the reads of this turn: every connection's request of the turn joins the batch
                scheduled = true;
                loop.execute(this);
            }
        }

        @Override
        public void run() {
            scheduled = false;
            if (waiting.isEmpty() || inFlight > 0) return;
            List<Pending> batch = waiting;
            waiting = new ArrayList<>();
            for (List<Pending> group : redis.bySlot(batch, Pending::key)) {
                for (int from = 0; from < group.size(); from += MAX_BATCH) {
                    send(group.subList(from, Math.min(group.size(), from + MAX_BATCH)));
                }
            }
        }

        private void send(List<Pending> batch) {
            inFlight++;
            String[] keys = new String[batch.size()];
            int argc = 0;
            for (Pending p : batch) argc += p.limitArgs().length;
            String[] args = new String[argc];
            int a = 0;
            IdentityHashMap<Counter, Boolean> routes = new IdentityHashMap<>();
            for (int i = 0; i < batch.size(); i++) {
                Pending p = batch.get(i);
                keys[i] = p.key();
                System.arraycopy(p.limitArgs(), 0, args, a, p.limitArgs().length);
                a += p.limitArgs().length;
                if (p.trips() != null && routes.put(p.trips(), Boolean.TRUE) == null) p.trips().increment();
            }
            // bounded here too (eval bounds the command, not a connection still being made): a batch that never
            // answered would hold this loop's later decisions back for good
            redis.eval(SCRIPT, keys, args).orTimeout(2 * redis.config().timeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                    .whenComplete((r, e) -> loop.execute(() -> answer(batch, r, e)));
        }

        private void answer(List<Pending> batch, List<Object> r, Throwable e) {
            inFlight--;
            for (int i = 0; i < batch.size(); i++) {
                Decided d = batch.get(i).then();
                try {
                    if (e != null) {
                        d.decided(false, 0, 0, 0, e);
                    } else {
                        d.decided((Long) r.get(4 * i) == 1L, (Long) r.get(4 * i + 1), (Long) r.get(4 * i + 2),
                                (Long) r.get(4 * i + 3), null);
                    }
                } catch (RuntimeException failed) {
                    // one request's failure must not leave the rest of the batch waiting
                    log.warn("rate limit: a global decision could not be applied", failed);
                }
            }
            // what arrived while this batch was out goes now, as one batch
            if (inFlight == 0 && !waiting.isEmpty()) run();
        }
    }

    @Override
    public void close() {
        loops.clear();
    }
}
