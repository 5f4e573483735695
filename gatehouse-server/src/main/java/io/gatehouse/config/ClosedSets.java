package io.gatehouse.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a closed-set value (an enum) from the file's text: its spelling ({@link Spelled#spelling()}, else the
 * constant's name in lower case) or an alias, in any case. A value that is none of them is reported with the valid
 * ones, and with a suggestion only when one value is clearly meant ({@link ClosestMatch#choice}) or advice when the
 * word is a known misnomer ({@link Spelled#misnomers()}).
 */
final class ClosedSets {
    private ClosedSets() {}

    static Object parse(Class<?> type, String text) {
        String t = text.strip();
        for (Object constant : type.getEnumConstants()) {
            if (spelling(constant).equalsIgnoreCase(t)) return constant;
            if (constant instanceof Spelled s) {
                for (String alias : s.aliases()) if (alias.equalsIgnoreCase(t)) return constant;
            } else if (((Enum<?>) constant).name().equalsIgnoreCase(t)) {
                return constant;
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not one of " + String.join(", ", spellings(type)) + hint(type, t));
    }

    /** The valid spellings, in declaration order. */
    static List<String> spellings(Class<?> type) {
        List<String> out = new ArrayList<>();
        for (Object constant : type.getEnumConstants()) out.add(spelling(constant));
        return out;
    }

    private static String spelling(Object constant) {
        return constant instanceof Spelled s ? s.spelling() : ((Enum<?>) constant).name().toLowerCase(Locale.ROOT);
    }

    /** "; advice" for a known misnomer, "; did you mean 'x'?" for a clear typo, else nothing: the list says it. */
    private static String hint(Class<?> type, String word) {
        Object first = type.getEnumConstants()[0];
        Map<String, String> misnomers = first instanceof Spelled s ? s.misnomers() : Map.of();
        for (Map.Entry<String, String> m : misnomers.entrySet()) {
            if (m.getKey().equalsIgnoreCase(word)) return "; " + m.getValue();
        }
        // Aliases count as spellings of their value, and the suggestion is the value's own spelling.
        Map<String, String> accepted = new LinkedHashMap<>();
        for (Object constant : type.getEnumConstants()) {
            accepted.put(spelling(constant), spelling(constant));
            if (constant instanceof Spelled s) for (String alias : s.aliases()) accepted.put(alias, spelling(constant));
        }
        String suggestion = ClosestMatch.choice(word, accepted);
        if (suggestion != null) return "; did you mean '" + suggestion + "'?";
        String advice = ClosestMatch.choice(word, misnomers);
        return advice != null ? "; " + advice : "";
    }
}
