package io.gatehouse.cache;

import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;

import java.nio.file.Path;

/**
 * A Gatehouse in a process of its own for {@link DiskCacheRestartTest}: starts from the config file given, prints
 * its listener's port on one line, and runs until it is killed.
 */
public final class DiskCacheMain {
    private DiskCacheMain() {}

    public static void main(String[] args) throws Exception {
        Gatehouse g = Gatehouse.start(ConfigLoader.load(Path.of(args[0])));
        System.out.println("GATEHOUSE-PORT " + g.listenerAddress("edge").getPort());
        System.out.flush();
        // Gatehouse's threads are daemons: the process lives as long as main does, until it is killed
        new java.util.concurrent.CountDownLatch(1).await();
    }
}
