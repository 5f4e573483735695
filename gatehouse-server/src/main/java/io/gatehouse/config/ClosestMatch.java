package io.gatehouse.config;

import java.util.Collection;
import java.util.Locale;

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
