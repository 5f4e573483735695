package io.gatehouse.admin;

import io.gatehouse.Gatehouse;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * {@code GET /blocks}: the building blocks of the system this edge fronts (app instances, databases, cache,
 * registry) and their health, as the process that started them reports it ({@code gatehouse up} registers here).
 * The edge knows only its own clusters; the blocks behind them are known to whoever started them. A plain
 * {@code gatehouse run} has none and answers an empty list.
 *
 * <p>The supplier is called on the admin event loop, so it must answer from memory (a snapshot its owner refreshes
 * in the background), never by asking the blocks themselves.
 */
public final class SystemBlocks {
    /** One block: {@code health} is up, degraded or down; {@code state} says why in words. */
    public record Block(String name, String engine, String address, String health, String state) {
        public Block {
            Objects.requireNonNull(name, "name");
            if (!List.of("up", "degraded", "down").contains(health)) throw new IllegalArgumentException("health: up, degraded or down");
        }
    }

    private static final Map<Gatehouse, Supplier<List<Block>>> REGISTERED = new ConcurrentHashMap<>();

    private SystemBlocks() {}

    /** Reports {@code blocks} on {@code gatehouse}'s admin API until {@link #unregister}. */
    public static void register(Gatehouse gatehouse, Supplier<List<Block>> blocks) {
        REGISTERED.put(gatehouse, blocks);
    }

    public static void unregister(Gatehouse gatehouse) {
        REGISTERED.remove(gatehouse);
    }

    static Map<String, Object> view(Gatehouse gatehouse) {
        Supplier<List<Block>> s = REGISTERED.get(gatehouse);
        List<Block> blocks = s == null ? List.of() : s.get();
        return Map.of("blocks", blocks.stream().map(b -> {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("name", b.name());
            m.put("engine", b.engine());
            m.put("address", b.address());
            m.put("health", b.health());
            m.put("state", b.state());
            return m;
        }).toList());
    }
}
