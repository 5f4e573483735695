package io.gatehouse.cli.system;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** The building blocks {@code gatehouse up} can start; {@code --blocks} picks a subset. */
public enum Block {
    EDGE("the Gatehouse edge"),
    APP("three app instances (the URL shortener)"),
    DB("PostgreSQL primary"),
    REPLICA("PostgreSQL streaming replica"),
    CACHE("Redis cache"),
    ZK("ZooKeeper (registry and leader election)");

    public final String description;

    Block(String description) {
        this.description = description;
    }

    public static final Set<Block> ALL = EnumSet.allOf(Block.class);

    /** Parses {@code edge,app,db}; names the unknown block, and the block another one needs, in the error. */
    public static Set<Block> parse(String list) {
        Set<Block> out = EnumSet.noneOf(Block.class);
        for (String part : list.split(",")) {
            String name = part.trim().toUpperCase(Locale.ROOT);
            if (name.isEmpty()) continue;
            try {
                out.add(Block.valueOf(name));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--blocks: unknown block '" + part.trim() + "' (known: edge, app, db, replica, cache, zk)");
            }
        }
        if (out.isEmpty()) throw new IllegalArgumentException("--blocks: name at least one block");
        if (out.contains(APP) && !out.contains(DB)) throw new IllegalArgumentException("--blocks: app needs db");
        if (out.contains(REPLICA) && !out.contains(DB)) throw new IllegalArgumentException("--blocks: replica needs db");
        if (out.contains(CACHE) && !out.contains(APP)) throw new IllegalArgumentException("--blocks: cache is only used by app");
        if (out.contains(ZK) && !out.contains(APP)) throw new IllegalArgumentException("--blocks: zk is only used by app");
        return out;
    }
}
