package io.gatehouse.cli.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs bash snippets and the launcher from the checkout this test was built from. */
final class Shell {
    private Shell() {}

    /** Exit code and merged stdout+stderr. */
    record Result(int exitCode, String output) {}

    /** The checkout's root: the directory above the working directory that holds the {@code gatehouse} launcher. */
    static Path repoRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("gatehouse")) && Files.isDirectory(dir.resolve(".mvn"))) return dir;
        }
        throw new IllegalStateException("no gatehouse launcher above " + Path.of("").toAbsolutePath());
    }

    /** {@code bash -c script} with {@code env} added to (or, for a null value, removed from) this process's environment. */
    static Result bash(String script, Map<String, String> env, Path workDir) throws IOException, InterruptedException {
        return run(List.of("bash", "-c", script), env, workDir);
    }

    static Result run(List<String> command, Map<String, String> env, Path workDir) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true);
        env.forEach((k, v) -> {
            if (v == null) pb.environment().remove(k);
            else pb.environment().put(k, v);
        });
        Path out = Files.createTempFile("gatehouse-shell", ".out");
        pb.redirectOutput(out.toFile());
        Process p = pb.start();
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out after 120 s: " + command + "\n" + Files.readString(out));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** Writes an executable script. */
    static Path script(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
        if (!file.toFile().setExecutable(true)) throw new IOException("cannot make " + file + " executable");
        return file;
    }
}
