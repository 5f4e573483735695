package io.gatehouse.cli.system;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class CpuPartsTest {
    @Test
    void threadsAreGroupedByTheBlockTheyServe() {
        assertThat(CpuParts.group("gatehouse-11-1")).isEqualTo("edge");
        assertThat(CpuParts.group("ForkJoinPool-1-")).startsWith("app");
        assertThat(CpuParts.group("lettuce-epollEv")).isEqualTo("redis client");
        assertThat(CpuParts.group("main-SendThread")).startsWith("zookeeper");
        assertThat(CpuParts.group("C2 CompilerThre")).isEqualTo("jit");
        assertThat(CpuParts.group("Reference Handl")).isEqualTo("jvm other");
    }

    @Test
    void ticksAreUserPlusSystemTimeEvenWhenTheNameHasSpacesAndParentheses(@TempDir Path dir) throws Exception {
        Path stat = dir.resolve("stat");
        Files.writeString(stat, "4242 (odd (name) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 37 5 0 0 20 0 1 0 100 0 0\n");
        assertThat(CpuParts.ticks(stat)).isEqualTo(42);
    }

    @Test
    void thisJvmIsSampledByThreadAndASpinShowsUp() {
        long pid = ProcessHandle.current().pid();
        Map<String, Long> before = CpuParts.sample(List.of(pid));
        // 300 ms of CPU on this thread, by the thread's own clock: on a busy machine wall time is not CPU time.
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long cpuUntil = mx.getCurrentThreadCpuTime() + 300_000_000L;
        long giveUp = System.nanoTime() + 60_000_000_000L;
        long x = 0;
        while (mx.getCurrentThreadCpuTime() < cpuUntil && System.nanoTime() < giveUp) x += System.nanoTime() % 7;
        Map<String, Long> used = CpuParts.minus(CpuParts.sample(List.of(pid)), before);
        assertThat(x).isPositive();
        assertThat(used.values().stream().mapToLong(Long::longValue).sum()).isGreaterThanOrEqualTo(20); // ≥ 200 ms in ticks
        assertThat(CpuParts.format(used, 1)).contains("jvm other");
    }
}
