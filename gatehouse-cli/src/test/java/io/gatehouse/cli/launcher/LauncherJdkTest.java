package io.gatehouse.cli.launcher;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How the launcher (and ./mvnw, .ci/run) finds a JDK: .mvn/find-jdk.sh against fake JDKs in a temp dir, each a
 * {@code bin/java} that reports a version the way {@code java -XshowSettings:properties} does, and a {@code bin/javac}.
 */
class LauncherJdkTest {
    @TempDir
    Path dir;

    private final Path root = Shell.repoRoot();

    @Test
    void takesJavaHomeWhenItIsAJdk21OrNewer() throws Exception {
        Path jdk = fakeJdk("jdk21", 21, true);

        Shell.Result r = find(Map.of("JAVA_HOME", jdk.toString(), "PATH", "/usr/bin:/bin"));

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("JAVA_HOME=" + jdk);
    }

    @Test
    void skipsATooOldJavaHomeForTheJavaOnThePath() throws Exception {
        Path old = fakeJdk("jdk17", 17, true);
        Path onPath = fakeJdk("jdk25", 25, true);

        Shell.Result r = find(Map.of("JAVA_HOME", old.toString(), "PATH", onPath.resolve("bin") + ":/usr/bin:/bin"));

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("JAVA_HOME=" + onPath);
    }

    @Test
    void skipsARuntimeWithoutJavac() throws Exception {
        Path jre = fakeJdk("jre21", 21, false);
        Path onPath = fakeJdk("jdk22", 22, true);

        Shell.Result r = find(Map.of("JAVA_HOME", jre.toString(), "PATH", onPath.resolve("bin") + ":/usr/bin:/bin"));

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("JAVA_HOME=" + onPath);
    }

    @Test
    void theLauncherRunsTheJavaOfTheJdkItFound() throws Exception {
        // gatehouse_jvm_flags asks the JDK for its version too: the flags follow the JDK that was found
        Path jdk = fakeJdk("jdk23", 23, true);
        Shell.Result r = Shell.bash(". .mvn/find-jdk.sh && gatehouse_find_jdk && . .mvn/jvm-flags.sh && gatehouse_jvm_flags"
                        + " && printf '%s\\n' \"${GATEHOUSE_JVM_FLAGS[@]}\"",
                Map.of("JAVA_HOME", jdk.toString(), "PATH", "/usr/bin:/bin"), root);

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("--sun-misc-unsafe-memory-access=allow").doesNotContain("UseCompactObjectHeaders");
    }

    private Shell.Result find(Map<String, String> env) throws IOException, InterruptedException {
        Map<String, String> e = new HashMap<>(env);
        return Shell.bash(". .mvn/find-jdk.sh && gatehouse_find_jdk && echo \"JAVA_HOME=$JAVA_HOME\"", e, root);
    }

    private Path fakeJdk(String name, int major, boolean withJavac) throws IOException {
        Path home = dir.resolve(name);
        Shell.script(home.resolve("bin/java"), """
                #!/bin/sh
                echo "    java.specification.version = %d" >&2
                echo "openjdk version \\"%d\\"" >&2
                """.formatted(major, major));
        if (withJavac) Shell.script(home.resolve("bin/javac"), "#!/bin/sh\nexit 0\n");
        return home;
    }
}
