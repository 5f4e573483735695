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
    private final Runnable onChange;
    private FileTime lastModified;
    private byte[] lastContent;

    ConfigWatcher(Path file, Runnable onChange) {
        this.file = file;
        this.onChange = onChange;
        this.lastModified = modified();
        this.lastContent = content();
    }

    /** Called every {@code interval} on one thread. */
    void poll() {
        FileTime modified = modified();
        if (modified == null || modified.equals(lastModified)) return;
        lastModified = modified;
        byte[] content = content();
        if (content == null || Arrays.equals(content, lastContent)) return;
        lastContent = content;
        log.info("{} changed: reloading", file);
        onChange.run();
    }

    private FileTime modified() {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            return null;   // gone for a moment (an editor replacing it): look again next time
        }
    }

    private byte[] content() {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            return null;
        }
    }
}
