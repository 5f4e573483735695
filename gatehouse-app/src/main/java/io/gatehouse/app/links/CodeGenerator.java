package io.gatehouse.app.links;

import java.security.SecureRandom;

/**
 * Short codes: 8 random base62 digits (62^8 ≈ 2.2e14) from a CSPRNG, made unique by the primary key on insert (a
 * collision, about 1 in 10^5 even at a billion links, just draws again).
 *
 * <p>Why random with a uniqueness check rather than a permutation of a sequence: a permuted counter is only
 * unguessable while its key stays secret, and it needs one global sequence, which is a coordination point that
 * fights the plan to shard links by code. Random codes need no coordination, leak neither volume nor creation
 * order, and with 2.2e14 codes a scanner guessing a million codes finds about five links per billion stored.
 */
public final class CodeGenerator {
    static final int LENGTH = 8;
    private static final long SPACE = pow62(LENGTH);
    private final SecureRandom random = new SecureRandom();

    public String next() {
        // nextLong(bound) rejects biased draws, so every code is equally likely.
        return Base62.encode(random.nextLong(SPACE), LENGTH);
    }

    private static long pow62(int n) {
        long v = 1;
        for (int i = 0; i < n; i++) v *= 62;
        return v;
    }
}
