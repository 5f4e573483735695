package io.gatehouse.compression;

import java.util.List;
import java.util.Locale;

/**
 * Picks the content coding for a response from the request's {@code Accept-Encoding} (RFC 9110 §12.5.3): the
 * offered coding with the highest q-value wins, ties go to the server's order, {@code q=0} excludes, {@code *} stands
 * for every coding not named, {@code x-gzip} is {@code gzip}. No header means no coding: the client did not ask.
 */
public final class AcceptEncoding {
    private AcceptEncoding() {}

    /** @return one of {@code offered}, or null to send the body as it is */
    public static String choose(String acceptEncoding, List<String> offered) {
        if (acceptEncoding == null || acceptEncoding.isBlank()) return null;
        String best = null;
        double bestQ = 0;
        for (String coding : offered) {
            double q = qualityOf(acceptEncoding, coding);
            if (q > bestQ) {
                best = coding;
                bestQ = q;
            }
        }
        return best;
    }

    /** The q-value the header gives {@code coding}: its own entry, else {@code *}'s, else 0. */
    static double qualityOf(String header, String coding) {
        double star = 0;
        boolean starSeen = false;
        for (String entry : header.split(",")) {
            int semi = entry.indexOf(';');
            String name = (semi < 0 ? entry : entry.substring(0, semi)).strip().toLowerCase(Locale.ROOT);
            if (name.isEmpty()) continue;
            double q = semi < 0 ? 1 : parseQ(entry.substring(semi + 1));
            if (name.equals(coding) || (coding.equals("gzip") && name.equals("x-gzip"))) return q;
            if (name.equals("*")) {
                star = q;
                starSeen = true;
            }
        }
        return starSeen ? star : 0;
    }

    /** The q parameter among {@code params} ("q=0.5"); a malformed one counts as 0 (not acceptable). */
    private static double parseQ(String params) {
        for (String p : params.split(";")) {
            String t = p.strip();
            if (t.length() > 2 && (t.charAt(0) == 'q' || t.charAt(0) == 'Q') && t.charAt(1) == '=') {
                try {
                    double q = Double.parseDouble(t.substring(2).strip());
                    return q >= 0 && q <= 1 ? q : 0;
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 1;
    }
}
