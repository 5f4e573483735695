package io.gatehouse.cli.launcher;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The whole launcher, as run: it finds the JDK it is pointed at and runs the jar with it. */
class LauncherIT {
    @TempDir
    Path dir;

    @Test
    void runsTheJarWithTheJdkFromJavaHome() throws Exception {
        Path root = Shell.repoRoot();
        // Precondition: the jar this build made is fresh, so the launcher runs it instead of building again.
        Shell.Result fresh = Shell.bash(". .mvn/build-inputs.sh; gatehouse_needs_build \"$PWD\" \"$PWD/gatehouse-cli/target/gatehouse.jar\"",
                Map.of(), root);
        assertThat(fresh.exitCode()).as("the launcher would rebuild: " + fresh.output()).isEqualTo(1);

        // A JDK in a temp dir whose java records that it ran, then hands over to the JDK running this test.
        Path realHome = Path.of(System.getProperty("java.home"));
        Path used = dir.resolve("java-was-used");
        Path jdk = dir.resolve("jdk");
        Shell.script(jdk.resolve("bin/java"), "#!/bin/sh\necho \"$*\" >> '" + used + "'\nexec '" + realHome.resolve("bin/java") + "' \"$@\"\n");
        Shell.script(jdk.resolve("bin/javac"), "#!/bin/sh\nexec '" + realHome.resolve("bin/javac") + "' \"$@\"\n");

        Shell.Result r = Shell.run(java.util.List.of(root.resolve("gatehouse").toString(), "version"),
                Map.of("JAVA_HOME", jdk.toString(), "PATH", "/usr/bin:/bin"), dir);

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("gatehouse 0.").contains("Java " + Runtime.version().feature());
        assertThat(Files.readString(used)).contains("-jar " + root.resolve("gatehouse-cli/target/gatehouse.jar") + " version");
        assertThat(Files.readString(used)).contains("-XX:+UseSerialGC");
    }

    @Test
    void aCollectorChosenInGatehouseJavaOptsReplacesTheDefaultOne() throws Exception {
        // the JVM refuses to start with two collectors selected
        Shell.Result r = Shell.run(java.util.List.of(Shell.repoRoot().resolve("gatehouse").toString(), "version"),
                Map.of("GATEHOUSE_JAVA_OPTS", "-XX:+UseG1GC -XX:+PrintCommandLineFlags"), dir);

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("-XX:+UseG1GC").doesNotContain("-XX:+UseSerialGC").contains("gatehouse 0.");
    }

    @Test
    void upRunsWithItsOwnHeapFlagsAndEveryOtherCommandWithTheProxys() throws Exception {
        String gatehouse = Shell.repoRoot().resolve("gatehouse").toString();
        Map<String, String> print = Map.of("GATEHOUSE_JAVA_OPTS", "-XX:+PrintCommandLineFlags");
        Shell.Result up = Shell.run(java.util.List.of(gatehouse, "up", "--print-config"), print, dir);
        assertThat(up.exitCode()).as(up.output()).isZero();
        // .mvn/up-jvm-flags.sh: a fixed 256 MiB young generation, 384-768 MiB of heap, metaspace threshold 160 MiB
        assertThat(up.output()).contains("-XX:+UseSerialGC", "-XX:NewSize=268435456", "-XX:MaxNewSize=268435456",
                "-XX:InitialHeapSize=402653184", "-XX:MaxHeapSize=805306368", "-XX:MetaspaceSize=167772160");
        // and no periodic native-heap trim (on up's one core it was a stall of up to 3.9 ms every 5 s)
        assertThat(up.output()).doesNotContain("TrimNativeHeapInterval");

        Shell.Result version = Shell.run(java.util.List.of(gatehouse, "version"), print, dir);
        assertThat(version.exitCode()).as(version.output()).isZero();
        // every other command keeps the proxy's flags (jvm-flags.sh), as the proxy benchmark measured them
        assertThat(version.output()).contains("gatehouse 0.").doesNotContain("-XX:MaxNewSize=268435456", "-XX:MetaspaceSize=167772160");
    }
}
