package io.gatehouse.config;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** "Did you mean …?" for misspelt keys and names, by optimal-string-alignment (Damerau-Levenshtein) distance. */
final class ClosestMatch {
    private ClosestMatch() {}

    /** The candidate closest to {@code word}, or null when none is close enough to be a plausible typo. */
    static String among(String word, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            // healthCheck, Health-Check and health_check are the same key to a human.
            int d = normalize(c).equals(normalize(word)) ? 0 : distance(word, c);
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        if (best == null) return null;
        int allowed = Math.max(2, Math.min(word.length(), best.length()) / 3);
        return bestDistance <= allowed && bestDistance < Math.max(word.length(), best.length()) ? best : null;
    }

    /**
     * The one value of a closed set {@code word} is plausibly a typo of, or null. Stricter than {@link #among}: the
     * value must be within one edit (two once both are six characters or more), keep the word's digits (http2 is
     * not a typo of http1, nor 500 of 502, nor 1.4 of 1.3: there a digit carries the meaning) and be closer than
     * every other value (h2s is as near h2 as h2c, so neither is offered). Case, '-' and '_' do not count.
     */
    static String choice(String word, Collection<String> values) {
        Map<String, String> self = new LinkedHashMap<>();
        for (String v : values) self.put(v, v);
        return choice(word, self);
    }

    /**
     * As {@link #choice(String, Collection)} over several spellings of fewer things: the meaning of the spelling
     * {@code word} is plausibly a typo of; spellings of the same meaning do not make each other ambiguous.
     */
    static <T> T choice(String word, Map<String, T> spellings) {
        String w = normalize(word);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        boolean tie = false;
        for (Map.Entry<String, T> e : spellings.entrySet()) {
            String c = normalize(e.getKey());
            if (!digits(c).equals(digits(w))) continue;
            int d = distance(w, c);
            if (d < bestDistance) {
                bestDistance = d;
                best = e.getKey();
                tie = false;
            } else if (d == bestDistance && !spellings.get(best).equals(e.getValue())) {
                tie = true;
            }
        }
        if (best == null || tie) return null;
        int shorter = Math.min(w.length(), normalize(best).length());
        int allowed = shorter >= 6 ? 2 : 1;
        return bestDistance <= allowed && bestDistance < shorter ? spellings.get(best) : null;
    }

    private static String digits(String s) {
        return s.replaceAll("\\D", "");
    }

    private static String normalize(String s) {
        return s.replace("_", "").replace("-", "").toLowerCase(Locale.ROOT);
    }

    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) d[i][0] = i;
        for (int j = 0; j <= b.length(); j++) d[0][j] = j;
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
