package io.gatehouse.app.links;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The redirect path's hand-written checks and parsers agree with what they replaced. */
class RedirectPathParsingTest {
    /** What LinkService matched every code against before; TargetPolicy still checks aliases with it. */
    private static final Pattern CODE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{2,31}");
    private static final String ALPHABET = "aZ09_-.%/|éA z";

    @Test
    void theCodeShapeCheckAgreesWithTheRegexItReplaced() {
        for (String s : new String[]{"", "a", "ab", "abc", "_ab", "-ab", "a_-", "a".repeat(32), "a".repeat(33), "ab.",
                "ab/c", "abc\u00e9", "ABC", "0__", "a b"}) {
            assertThat(LinkService.plausibleCode(s)).as("'%s'", s).isEqualTo(CODE.matcher(s).matches());
        }
        SplittableRandom random = new SplittableRandom(18);
        int accepted = 0;
        for (int i = 0; i < 200_000; i++) {
            StringBuilder b = new StringBuilder();
            int n = random.nextInt(36);
            for (int j = 0; j < n; j++) b.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
            String s = b.toString();
            boolean expected = CODE.matcher(s).matches();
            assertThat(LinkService.plausibleCode(s)).as("'%s'", s).isEqualTo(expected);
            if (expected) accepted++;
        }
        assertThat(accepted).as("the sample holds valid codes too").isGreaterThan(100);
    }

    @Test
    void aCachedLinkParsesBackToWhatWasStored() {
        Instant expires = Instant.ofEpochMilli(1_893_456_000_123L);
        LinkCache.Found f = (LinkCache.Found) LinkCache.parse("abc",
                "L|42|1|" + expires.toEpochMilli() + "|7|1700000000000|https://example.com/a|b?c=1|2");
        assertThat(f.redirect()).isEqualTo(new Redirect("abc", "https://example.com/a|b?c=1|2", true, expires, 42));
        assertThat(f.deltaMs()).isEqualTo(7);
        assertThat(f.softExpiryMs()).isEqualTo(1_700_000_000_000L);

        LinkCache.Found plain = (LinkCache.Found) LinkCache.parse("xyz", "L|9007199254740993|0|0|1|5|http://h/");
        assertThat(plain.redirect()).isEqualTo(new Redirect("xyz", "http://h/", false, null, 9_007_199_254_740_993L));
        assertThat(((LinkCache.Found) LinkCache.parse("xyz", "L|1|10|0|1|5|http://h/")).redirect().permanent())
                .as("only exactly '1' is permanent").isFalse();

        assertThat(LinkCache.parse("abc", "N|123")).isEqualTo(new LinkCache.Missing(123));
        assertThat(LinkCache.parse("abc", "T|5")).isNull();
        assertThat(LinkCache.parse("abc", "D|5")).isNull();
        assertThat(LinkCache.parse("abc", null)).isNull();
    }
}
