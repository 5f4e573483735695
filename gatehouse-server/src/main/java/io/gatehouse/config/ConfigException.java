package io.gatehouse.config;

import java.util.List;

/** A configuration that cannot be used. Each problem names the file, line, column and key path. */
public final class ConfigException extends Exception {
    private final List<ConfigProblem> problems;

    public ConfigException(List<ConfigProblem> problems) {
        super(render(problems));
        this.problems = List.copyOf(problems);
    }

    public List<ConfigProblem> problems() { return problems; }

    private static String render(List<ConfigProblem> problems) {
        StringBuilder sb = new StringBuilder();
        for (ConfigProblem p : problems) {
            if (!sb.isEmpty()) sb.append('\n');
            sb.append(p);
        }
        return sb.toString();
    }

    /**
     * @param file   the file as given (or {@code <inline>})
     * @param line   1-based, 0 when unknown
     * @param column 1-based, 0 when unknown
     * @param path   key path such as {@code clusters[0].endpoints[1].weight}
     */
    public record ConfigProblem(String file, int line, int column, String path, String message) {
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(file);
            if (line > 0) sb.append(':').append(line);
            if (column > 0) sb.append(':').append(column);
            sb.append(": ");
            if (path != null && !path.isEmpty()) sb.append(path).append(": ");
            return sb.append(message).toString();
        }
    }
}
