package io.gatehouse.cli.launcher;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * When the launcher rebuilds: .mvn/build-inputs.sh (what {@code ./gatehouse} sources) on a small tree shaped like the
 * checkout (a root pom, a module with src/ and a jar in target/), without running a build. Times are set explicitly:
 * sources an hour old, the jar half an hour old, so "newer than the jar" is never decided by the clock's resolution.
 */
class LauncherBuildCheckTest {
    @TempDir
    Path tree;

    private Path jar;
    private Path source;
    private final Instant sourceTime = Instant.now().minusSeconds(3600);
    private final Instant jarTime = Instant.now().minusSeconds(1800);

    @BeforeEach
    void aBuiltTree() throws Exception {
        Files.writeString(tree.resolve("pom.xml"), "<project/>");
        Files.writeString(Files.createDirectories(tree.resolve("app")).resolve("pom.xml"), "<project/>");
        source = Files.createDirectories(tree.resolve("app/src/main/java/p")).resolve("A.java");
        Files.writeString(source, "package p; class A {}");
        Files.writeString(source.resolveSibling("B.java"), "package p; class B {}");
        jar = Files.createDirectories(tree.resolve("app/target")).resolve("app.jar");
        Files.writeString(jar, "jar");
        ageTree();
        assertThat(check("gatehouse_record_build \"$ROOT\" \"$JAR\" \"$(gatehouse_build_inputs \"$ROOT\")\"").exitCode()).isZero();
        Files.setLastModifiedTime(jar, FileTime.from(jarTime));
        Files.setLastModifiedTime(inputs(), FileTime.from(jarTime.plusSeconds(1)));   // written just after the build
    }

    private Path inputs() {
        return tree.resolve("app/target/app.jar.inputs");
    }

    @Test
    void aFreshJarIsNotRebuilt() throws Exception {
        assertThat(needsBuild()).isFalse();
    }

    @Test
    void noJarMeansABuild() throws Exception {
        Files.delete(jar);
        assertThat(needsBuild()).isTrue();
    }

    @Test
    void anEditedSourceMeansABuild() throws Exception {
        Files.writeString(source, "package p; class A { int x; }");   // mtime: now, newer than the jar
        assertThat(needsBuild()).isTrue();
    }

    @Test
    void aDeletedSourceMeansABuildEvenWhenTheDirectoryKeepsItsOldTime() throws Exception {
        Files.delete(source.resolveSibling("B.java"));
        ageTree();   // as rsync -a, tar or an IDE sync leave it: nothing in the tree is newer than the jar
        assertThat(nothingNewerThanTheJar()).isTrue();
        assertThat(needsBuild()).isTrue();
    }

    @Test
    void anAddedSourceWithAnOldTimeMeansABuild() throws Exception {
        Files.writeString(source.resolveSibling("C.java"), "package p; class C {}");
        ageTree();   // copied in with its original time (cp -p, git stash pop of an old file, an archive)
        assertThat(nothingNewerThanTheJar()).isTrue();
        assertThat(needsBuild()).isTrue();
    }

    @Test
    void aJarBuiltByMavenDirectlyIsTrustedByTimeAndItsInputsRecordedForNextTime() throws Exception {
        Files.delete(inputs());
        assertThat(needsBuild()).isFalse();
        assertThat(inputs()).content().contains("./app/src/main/java/p/B.java");

        Files.delete(source.resolveSibling("B.java"));
        ageTree();
        assertThat(needsBuild()).isTrue();
    }

    @Test
    void aJarRebuiltByMavenAfterTheListWasWrittenIsTrustedByTimeAndItsListRewritten() throws Exception {
        Files.delete(source.resolveSibling("B.java"));                 // then `./mvnw package` made a new jar:
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now()));  // newer than the list, and than every source
        assertThat(needsBuild()).isFalse();
        assertThat(inputs()).content().doesNotContain("B.java");
    }

    private boolean needsBuild() throws Exception {
        Shell.Result r = check("gatehouse_needs_build \"$ROOT\" \"$JAR\"");
        assertThat(r.exitCode()).as(r.output()).isIn(0, 1);
        return r.exitCode() == 0;
    }

    private boolean nothingNewerThanTheJar() throws Exception {
        Shell.Result r = check("find \"$ROOT\"/*/src \"$ROOT\"/pom.xml \"$ROOT\"/*/pom.xml -newer \"$JAR\"");
        return r.exitCode() == 0 && r.output().isBlank();
    }

    private Shell.Result check(String command) throws IOException, InterruptedException {
        String script = ". \"$REPO/.mvn/build-inputs.sh\"; " + command;
        return Shell.bash(script, Map.of("REPO", Shell.repoRoot().toString(), "ROOT", tree.toString(), "JAR", jar.toString()), tree);
    }

    /** Every source, pom and directory of the tree back to an hour ago. */
    private void ageTree() throws IOException {
        try (var paths = Files.walk(tree)) {
            for (Path p : paths.filter(p -> !p.startsWith(tree.resolve("app/target"))).toList()) {
                Files.setLastModifiedTime(p, FileTime.from(sourceTime));
            }
        }
    }
}
