package io.gatehouse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;

/**
 * {@code server.watch_config}: notices that the configuration file changed. A low-frequency poll of the
 * modification time rather than a {@code WatchService}, because the latter misses files replaced through a symlink
 * swap (Kubernetes ConfigMaps) and needs a thread of its own; a poll runs on the reload thread.
 *
 * <p>A change of time alone (a {@code touch}) does nothing: the content must differ from what was last seen.
 */
final class ConfigWatcher {
    private static final Logger log = LoggerFactory.getLogger(ConfigWatcher.class);

    private final Path file;
    private final java.util.function.Supplier<java.util.List<Path>> others;   // files the config names (consumers_file)
    private final Runnable onChange;
    private final java.util.Map<Path, Seen> seen = new java.util.HashMap<>();

    private record Seen(FileTime modified, byte[] content) {}

    ConfigWatcher(Path file, Runnable onChange) {
        this(file, java.util.List::of, onChange);
    }

    /** Watches {@code file} and the files {@code others} names now (asked on every poll: a reload may change them). */
    ConfigWatcher(Path file, java.util.function.Supplier<java.util.List<Path>> others, Runnable onChange) {
        this.file = file;
        this.others = others;
        this.onChange = onChange;
        seen.put(file, new Seen(modified(file), content(file)));
        for (Path p : others.get()) seen.put(p, new Seen(modified(p), content(p)));
    }

    /** Called every {@code interval} on one thread. */
    void poll() {
        java.util.List<Path> files = new java.util.ArrayList<>();
        files.add(file);
        files.addAll(others.get());
        Path changed = null;
        for (Path p : files) {
            Seen before = seen.get(p);
            FileTime modified = modified(p);
            if (before == null) {   // newly named by the config: its current content is the baseline
                seen.put(p, new Seen(modified, content(p)));
                continue;
            }
            if (modified == null || modified.equals(before.modified())) continue;
            byte[] content = content(p);
            seen.put(p, new Seen(modified, content == null ? before.content() : content));
            if (content == null || Arrays.equals(content, before.content())) continue;
            if (changed == null) changed = p;
        }
        if (changed == null) return;
        log.info("{} changed: reloading", changed);
        onChange.run();
    }

    private static FileTime modified(Path file) {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            return null;   // gone for a moment (an editor replacing it): look again next time
        }
    }

    private static byte[] content(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            return null;
        }
    }
}
