package io.gatehouse.config;

import io.gatehouse.config.YamlNode.Entry;
import io.gatehouse.config.YamlNode.Mapping;
import io.gatehouse.config.YamlNode.Scalar;
import io.gatehouse.config.YamlNode.Sequence;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Binds the YAML tree onto the config records through their canonical constructors, so the records' compact
 * constructors stay the single place for defaults and rules. Unlike Jackson databind, which stops at the first
 * error, it keeps going and reports every unknown key, wrong type and rule violation with its location.
 */
final class RecordBinder {
    /** A value that could not be bound; its problem is already reported, and its parents are not built. */
    private static final Object FAILED = new Object();
    private static final Pattern KEYED_MESSAGE = Pattern.compile("([a-z][a-z0-9_]*): (.+)", Pattern.DOTALL);
    /** int components that hold byte counts, so they accept size units like the long ones do. */
    private static final Set<String> INT_SIZES = Set.of("HttpLimitsConfig.maxUriLength", "HttpLimitsConfig.maxHeaderSize");
    private static final Map<Class<?>, Map<String, RecordComponent>> KEYS = new ConcurrentHashMap<>();

    private final Problems problems;

    RecordBinder(Problems problems) {
        this.problems = problems;
    }

    /** The bound record, or null when anything failed (and was reported). */
    <T extends Record> T bind(Class<T> type, YamlNode root) {
        YamlNode node = root == null ? new Mapping(new LinkedHashMap<>(), YamlNode.Mark.UNKNOWN) : root;
        Object v = record(type, node, "");
        return v == FAILED || v == null ? null : type.cast(v);
    }

    /**
     * YAML key of a record component: snake_case, with a digit run starting a new word when a word of two or more
     * letters follows it (consecutive5xx → consecutive_5xx), while a protocol name keeps its digit (http2, h2c).
     */
    static String keyOf(String component) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < component.length(); i++) {
            char c = component.charAt(i);
            char prev = i == 0 ? 0 : component.charAt(i - 1);
            boolean wordStart = i > 0 && (Character.isUpperCase(c)
                    || (Character.isDigit(c) && !Character.isDigit(prev) && wordFollowsDigits(component, i)));
            if (wordStart) sb.append('_');
            sb.append(Character.toLowerCase(c));
        }
        return sb.toString();
    }

    /** Whether the digit run starting at {@code i} is followed by at least two lower-case letters. */
    private static boolean wordFollowsDigits(String s, int i) {
        int j = i;
        while (j < s.length() && Character.isDigit(s.charAt(j))) j++;
        return j + 1 < s.length() && Character.isLowerCase(s.charAt(j)) && Character.isLowerCase(s.charAt(j + 1));
    }

    /** YAML key → component, in declaration order. */
    static Map<String, RecordComponent> keys(Class<?> type) {
        return KEYS.computeIfAbsent(type, t -> {
            Map<String, RecordComponent> m = new LinkedHashMap<>();
            for (RecordComponent c : t.getRecordComponents()) m.put(keyOf(c.getName()), c);
            return m;
        });
    }

    private Object record(Class<?> type, YamlNode node, String path) {
        if (type == ClusterConfig.EndpointConfig.class && node instanceof Scalar s) {
            // Shorthand: "- 10.0.0.1:8080" is an endpoint with weight 1.
            return construct(type, new Object[] {s.text(), 0, false}, node, null, path);
        }
        if (!(node instanceof Mapping map)) {
            problems.add(node.mark(), path, "expected a mapping with keys such as " + String.join(", ", keys(type).keySet().stream().limit(4).toList())
                    + ", got " + node.kind());
            return FAILED;
        }
        Map<String, RecordComponent> keys = keys(type);
        for (Entry e : map.entries().values()) {
            if (!keys.containsKey(e.key())) {
                String suggestion = ClosestMatch.among(e.key(), keys.keySet());
                problems.add(e.keyMark(), Problems.child(path, e.key()), "unknown key '" + e.key() + "'; "
                        + (suggestion != null ? "did you mean '" + suggestion + "'?" : "expected one of " + String.join(", ", keys.keySet())));
            }
        }
        Object[] args = new Object[keys.size()];
        boolean failed = false;
        int i = 0;
        for (Map.Entry<String, RecordComponent> k : keys.entrySet()) {
            RecordComponent c = k.getValue();
            Entry e = map.entries().get(k.getKey());
            boolean size = c.getType() == long.class || c.getType() == Long.class
                    || INT_SIZES.contains(type.getSimpleName() + "." + c.getName());
            Object v = e == null ? defaultOf(c.getType()) : value(c.getGenericType(), e.value(), Problems.child(path, k.getKey()), size);
            failed |= v == FAILED;
            args[i++] = v;
        }
        return failed ? FAILED : construct(type, args, node, map, path);
    }

    private Object construct(Class<?> type, Object[] args, YamlNode node, Mapping map, String path) {
        try {
            Class<?>[] types = new Class<?>[args.length];
            RecordComponent[] components = type.getRecordComponents();
            for (int i = 0; i < components.length; i++) types[i] = components[i].getType();
            Constructor<?> ctor = type.getDeclaredConstructor(types);
            return ctor.newInstance(args);
        } catch (InvocationTargetException e) {
            reportRuleViolation(type, e.getCause(), node, map, path);
            return FAILED;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot build " + type.getName(), e);
        }
    }

    /** A compact constructor said "key: text": point at that key when the mapping has it, else at the object. */
    private void reportRuleViolation(Class<?> type, Throwable cause, YamlNode node, Mapping map, String path) {
        String message = cause.getMessage() == null ? cause.toString() : cause.getMessage();
        Matcher m = KEYED_MESSAGE.matcher(message);
        if (m.matches() && keys(type).containsKey(m.group(1))) {
            String key = m.group(1);
            Entry e = map == null ? null : map.entries().get(key);
            if (e != null) {
                problems.add(e.keyMark(), Problems.child(path, key), m.group(2));
            } else {
                // Shorthand scalars and missing keys: the object itself is the best place to point at.
                problems.add(node.mark(), map == null ? path : Problems.child(path, key), m.group(2));
            }
        } else if (m.matches() && (path.equals(m.group(1)) || path.endsWith("." + m.group(1)))) {
            // "limits: must be >= 1" thrown by the limits record itself names the object, not one of its keys.
            problems.add(node.mark(), path, m.group(2));
        } else {
            problems.add(node.mark(), path, message);
        }
    }

    private Object value(Type type, YamlNode node, String path, boolean size) {
        Class<?> raw = type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
        if (node instanceof Scalar s && s.isNull()) return defaultOf(raw);
        if (raw == List.class) {
            Type item = ((ParameterizedType) type).getActualTypeArguments()[0];
            if (!(node instanceof Sequence seq)) {
                problems.add(node.mark(), path, "expected a list, got " + node.kind());
                return FAILED;
            }
            List<Object> out = new ArrayList<>();
            boolean failed = false;
            for (int i = 0; i < seq.items().size(); i++) {
                YamlNode itemNode = seq.items().get(i);
                Object v = itemNode instanceof Scalar s && s.isNull()
                        ? nullItem(itemNode, Problems.index(path, i))
                        : value(item, itemNode, Problems.index(path, i), false);
                failed |= v == FAILED;
                out.add(v);
            }
            return failed ? FAILED : out;
        }
        if (raw == FilterConfig.class) return filter(node, path);
        if (raw == Map.class) return stringMap(node, path);
        if (raw.isRecord()) return record(raw, node, path);
        if (!(node instanceof Scalar s)) {
            problems.add(node.mark(), path, "expected " + describe(raw, size) + ", got " + node.kind());
            return FAILED;
        }
        try {
            return scalar(raw, s.text(), size);
        } catch (IllegalArgumentException e) {
            problems.add(s.mark(), path, e.getMessage());
            return FAILED;
        }
    }

    /** A {@code filters:} entry: a mapping with one key, the filter's type, whose value configures it. */
    private Object filter(YamlNode node, String path) {
        if (!(node instanceof Mapping map) || map.entries().size() != 1) {
            problems.add(node.mark(), path, "expected one filter, as its type and its settings (for example "
                    + "'- compression: {}'); one list entry per filter");
            return FAILED;
        }
        Entry e = map.entries().values().iterator().next();
        Class<? extends Record> type = FilterConfig.configType(e.key());
        if (type == null) {
            String suggestion = ClosestMatch.among(e.key(), FilterConfig.types());
            problems.add(e.keyMark(), Problems.child(path, e.key()), "unknown filter type '" + e.key() + "'; "
                    + (suggestion != null ? "did you mean '" + suggestion + "'?" : "expected one of " + String.join(", ", FilterConfig.types())));
            return FAILED;
        }
        YamlNode settings = e.value() instanceof Scalar s && s.isNull()
                ? new Mapping(new LinkedHashMap<>(), e.value().mark()) : e.value();
        Object v = record(type, settings, Problems.child(path, e.key()));
        return v == FAILED ? FAILED : new FilterConfig(e.key(), (Record) v);
    }

    /** name → value, for header rules: every value a scalar. */
    private Object stringMap(YamlNode node, String path) {
        if (!(node instanceof Mapping map)) {
            problems.add(node.mark(), path, "expected a mapping of names to values, got " + node.kind());
            return FAILED;
        }
        Map<String, String> out = new LinkedHashMap<>();
        boolean failed = false;
        for (Entry e : map.entries().values()) {
            if (!(e.value() instanceof Scalar s) || s.isNull()) {
                problems.add(e.value().mark(), Problems.child(path, e.key()), "expected a value, got " + e.value().kind());
                failed = true;
            } else {
                out.put(e.key(), s.text());
            }
        }
        return failed ? FAILED : out;
    }

    private Object nullItem(YamlNode node, String path) {
        if (((Scalar) node).text() != null) problems.add(node.mark(), path, "empty list item");
        return FAILED;
    }

    private static Object scalar(Class<?> raw, String text, boolean size) {
        if (raw == String.class) return text;
        if (raw == Duration.class) return Durations.parse(text);
        if (raw == java.time.Instant.class) {
            try {
                return java.time.Instant.parse(text.strip());
            } catch (java.time.format.DateTimeParseException e) {
                throw new IllegalArgumentException("expected a time such as 2027-01-31T00:00:00Z, got '" + text + "'");
            }
        }
        if (raw == boolean.class || raw == Boolean.class) {
            if (text.equalsIgnoreCase("true")) return Boolean.TRUE;
            if (text.equalsIgnoreCase("false")) return Boolean.FALSE;
            throw new IllegalArgumentException("expected true or false, got '" + text + "'");
        }
        if (raw == long.class || raw == Long.class) {
            return size ? ByteSizes.parse(text) : wholeNumber(text, Long.MAX_VALUE);
        }
        if (raw == int.class || raw == Integer.class) {
            long v = size ? ByteSizes.parse(text) : wholeNumber(text, Integer.MAX_VALUE);
            if (v > Integer.MAX_VALUE) throw new IllegalArgumentException("'" + text + "' is too large (at most " + Integer.MAX_VALUE + ")");
            return (int) v;
        }
        if (raw.isEnum()) return ClosedSets.parse(raw, text);
        if (raw == double.class || raw == Double.class) {
            try {
                double d = Double.parseDouble(text.strip());
                if (Double.isFinite(d) && !text.strip().matches(".*[a-zA-Z].*")) return d;
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw new IllegalArgumentException("expected a number, got '" + text + "'");
        }
        throw new IllegalStateException("no binding for " + raw);
    }

    private static long wholeNumber(String text, long max) {
        String t = text.strip().replace("_", "");
        if (!t.matches("-?\\d+")) {
            throw new IllegalArgumentException((t.matches("-?\\d*\\.\\d+") ? "expected a whole number" : "expected a number") + ", got '" + text + "'");
        }
        try {
            long v = Long.parseLong(t);
            if (v > max || v < -max - 1) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is too large (at most " + max + ")");
        }
    }

    private static String describe(Class<?> raw, boolean size) {
        if (size) return "a size such as 10MiB";
        if (raw == Duration.class) return "a duration such as 5s";
        if (raw == java.time.Instant.class) return "a time such as 2027-01-31T00:00:00Z";
        if (raw == boolean.class || raw == Boolean.class) return "true or false";
        if (raw == String.class) return "a string";
        if (raw.isEnum()) return "one of " + String.join(", ", ClosedSets.spellings(raw));
        return "a number";
    }

    private static Object defaultOf(Class<?> type) {
        if (type == int.class) return 0;
        if (type == long.class) return 0L;
        if (type == boolean.class) return false;
        if (type == double.class) return 0.0;
        return null;
    }
}
