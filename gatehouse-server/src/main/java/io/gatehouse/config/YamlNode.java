package io.gatehouse.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The YAML document as a tree that remembers where every node and key came from, so that both binding and the
 * checks after it can point at the exact line and column. Jackson's own tree drops locations, hence this one.
 */
sealed interface YamlNode {

    /** 1-based line and column; {@link #UNKNOWN} when there is none (e.g. an empty document). */
    record Mark(int line, int column) {
        static final Mark UNKNOWN = new Mark(0, 0);
    }

    Mark mark();

    /** What the node is, for messages such as "expected a number, got a mapping". */
    String kind();

    /**
     * A scalar after {@code ${VAR}} substitution. {@code text} is the source text (so {@code off} stays
     * {@code off}, not YAML 1.1's false); {@code isNull} for {@code ~}, {@code null} or an empty value; {@code text} is null only for a value
     * whose problem was already reported (unset variable, unknown alias).
     */
    record Scalar(String text, boolean isNull, Mark mark) implements YamlNode {
        @Override
        public String kind() {
            return isNull ? "null" : "'" + text + "'";
        }
    }

    record Sequence(List<YamlNode> items, Mark mark) implements YamlNode {
        @Override
        public String kind() {
            return "a list";
        }
    }

    /** Keys in document order, each with the location of the key itself. */
    record Mapping(LinkedHashMap<String, Entry> entries, Mark mark) implements YamlNode {
        @Override
        public String kind() {
            return "a mapping";
        }

        YamlNode get(String key) {
            Entry e = entries.get(key);
            return e == null ? null : e.value();
        }

        Map<String, Entry> view() {
            return entries;
        }
    }

    record Entry(String key, Mark keyMark, YamlNode value) {}
}
