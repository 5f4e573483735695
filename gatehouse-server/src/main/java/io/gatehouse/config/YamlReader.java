package io.gatehouse.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.gatehouse.config.YamlNode.Entry;
import io.gatehouse.config.YamlNode.Mapping;
import io.gatehouse.config.YamlNode.Mark;
import io.gatehouse.config.YamlNode.Scalar;
import io.gatehouse.config.YamlNode.Sequence;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Builds a {@link YamlNode} tree with Jackson's streaming YAML parser, resolving anchors, aliases and {@code <<}
 * merge keys, and substituting {@code ${VAR}} / {@code ${VAR:-default}} in scalar values.
 */
final class YamlReader {
    private static final YAMLFactory FACTORY = YAMLFactory.builder().build();

    private final Problems problems;
    private final Function<String, String> env;
    private final Map<String, YamlNode> anchors = new HashMap<>();
    private YAMLParser parser;

    YamlReader(Problems problems, Function<String, String> env) {
        this.problems = problems;
        this.env = env;
    }

    /** The document's root, or null when it is empty or not valid YAML (the latter is reported). */
    YamlNode read(String yaml) {
        try (YAMLParser p = FACTORY.createParser(yaml)) {
            parser = p;
            JsonToken first = p.nextToken();
            if (first == null) return null;
            YamlNode root = value(first, "");
            if (p.nextToken() != null) {
                problems.add(mark(p.currentTokenLocation()), "", "only one YAML document is allowed");
            }
            return root;
        } catch (IOException e) {
            syntaxError(e);
            return null;
        }
    }

    private void syntaxError(IOException e) {
        if (e.getCause() instanceof org.yaml.snakeyaml.error.MarkedYAMLException m && m.getProblemMark() != null) {
            var pm = m.getProblemMark();
            var cm = m.getContextMark();
            String context = m.getContext() == null || cm == null ? ""
                    : " (" + m.getContext() + " started at line " + (cm.getLine() + 1) + ", column " + (cm.getColumn() + 1) + ")";
            problems.add(new Mark(pm.getLine() + 1, pm.getColumn() + 1), "", "invalid YAML: " + m.getProblem() + context);
        } else if (e instanceof com.fasterxml.jackson.core.JsonProcessingException j) {
            problems.add(mark(j.getLocation()), "", "invalid YAML: " + j.getOriginalMessage());
        } else {
            problems.add(Mark.UNKNOWN, "", "invalid YAML: " + e.getMessage());
        }
    }

    private YamlNode value(JsonToken token, String path) throws IOException {
        Mark mark = mark(parser.currentTokenLocation());
        String anchor = parser.getObjectId() instanceof String s ? s : null;
        YamlNode node = switch (token) {
            case START_OBJECT -> mapping(path, mark);
            case START_ARRAY -> sequence(path, mark);
            case VALUE_NULL -> new Scalar(parser.getText(), true, mark);
            default -> {
                if (parser.isCurrentAlias()) {
                    YamlNode target = anchors.get(parser.getText());
                    if (target == null) {
                        problems.add(mark, path, "unknown alias '*" + parser.getText() + "'");
                        yield new Scalar(null, true, mark);
                    }
                    yield target;
                }
                // A failed substitution (already reported) becomes a null, so it causes no second error.
                String text = substitute(parser.getText(), path, mark);
                yield new Scalar(text, text == null, mark);
            }
        };
        if (anchor != null) anchors.put(anchor, node);
        return node;
    }

    private Mapping mapping(String path, Mark mark) throws IOException {
        LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();
        List<Mapping> merges = new ArrayList<>();
        JsonToken t;
        while ((t = parser.nextToken()) == JsonToken.FIELD_NAME) {
            String key = parser.currentName();
            Mark keyMark = mark(parser.currentTokenLocation());
            String childPath = Problems.child(path, key);
            YamlNode v = value(parser.nextToken(), childPath);
            if (key.equals("<<")) {
                collectMerges(v, childPath, merges);
            } else if (entries.containsKey(key)) {
                problems.add(keyMark, childPath, "duplicate key '" + key + "' (first at line " + entries.get(key).keyMark().line() + ")");
            } else {
                entries.put(key, new Entry(key, keyMark, v));
            }
        }
        // YAML merge keys: explicit keys win over merged ones, earlier merges over later ones.
        for (Mapping m : merges) {
            for (Entry e : m.entries().values()) entries.putIfAbsent(e.key(), e);
        }
        return new Mapping(entries, mark);
    }

    private void collectMerges(YamlNode v, String path, List<Mapping> into) {
        if (v instanceof Mapping m) {
            into.add(m);
        } else if (v instanceof Sequence s && s.items().stream().allMatch(i -> i instanceof Mapping)) {
            s.items().forEach(i -> into.add((Mapping) i));
        } else {
            problems.add(v.mark(), path, "a merge key (<<) needs a mapping or a list of mappings, got " + v.kind());
        }
    }

    private Sequence sequence(String path, Mark mark) throws IOException {
        List<YamlNode> items = new ArrayList<>();
        JsonToken t;
        while ((t = parser.nextToken()) != JsonToken.END_ARRAY) {
            items.add(value(t, Problems.index(path, items.size())));
        }
        return new Sequence(items, mark);
    }

    /** Null when it failed (and was reported). {@code ${NAME}}, {@code ${NAME:-default}} (default also when NAME is empty) and {@code $${} for a literal. */
    private String substitute(String text, String path, Mark mark) {
        if (text == null || !text.contains("${")) return text;
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            if (text.startsWith("$${", i)) {
                out.append("${");
                i += 3;
            } else if (text.startsWith("${", i)) {
                int close = text.indexOf('}', i + 2);
                if (close < 0) {
                    problems.add(mark, path, "unclosed '${' in '" + text + "'; write $${ for a literal ${");
                    return null;
                }
                String inner = text.substring(i + 2, close);
                int sep = inner.indexOf(":-");
                String name = sep < 0 ? inner : inner.substring(0, sep);
                if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                    problems.add(mark, path, "'${" + inner + "}' is not a valid variable reference; use ${NAME} or ${NAME:-default}");
                    return null;
                }
                String value = env.apply(name);
                if (value == null || value.isEmpty()) {
                    if (sep >= 0) {
                        value = inner.substring(sep + 2);
                    } else if (value == null) {
                        problems.add(mark, path, "environment variable " + name + " is not set and has no default (write ${" + name + ":-default})");
                        return null;
                    }
                }
                out.append(value);
                i = close + 1;
            } else {
                out.append(text.charAt(i++));
            }
        }
        return out.toString();
    }

    private static Mark mark(JsonLocation l) {
        if (l == null || l.getLineNr() < 1) return Mark.UNKNOWN;
        return new Mark(l.getLineNr(), Math.max(l.getColumnNr(), 0));
    }
}
