package io.gatehouse.config;

import io.gatehouse.config.ConfigException.ConfigProblem;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;

/** Collects every problem found in one file, so a single run reports them all, in file order. */
final class Problems {
    private final String file;
    private final List<ConfigProblem> list = new ArrayList<>();

    Problems(String file) {
        this.file = file;
    }

    void add(YamlNode.Mark mark, String path, String message) {
        YamlNode.Mark m = mark == null ? YamlNode.Mark.UNKNOWN : mark;
        list.add(new ConfigProblem(file, m.line(), m.column(), path, message));
    }

    boolean isEmpty() {
        return list.isEmpty();
    }

    /** Sorted by position (stable, so problems at one spot keep the order they were found in), duplicates dropped. */
    List<ConfigProblem> sorted() {
        List<ConfigProblem> copy = new ArrayList<>(new LinkedHashSet<>(list));
        copy.sort(Comparator.comparingInt(ConfigProblem::line).thenComparingInt(ConfigProblem::column));
        return copy;
    }

    static String child(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    static String index(String path, int i) {
        return path + "[" + i + "]";
    }
}
