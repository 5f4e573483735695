package io.gatehouse.app.cache;

/**
 * Probabilistic early refresh ("XFetch", Vattani, Chierichetti and Lowenstein, VLDB 2015): each read of a cached
 * entry refreshes it early with a probability that rises as expiry nears and with how long a recompute takes.
 * One reader among many refreshes a hot key shortly before it expires, so a hot key never goes cold under load,
 * while cold keys are almost never refreshed early.
 */
public final class XFetch {
    private final double beta;

    /** @param beta 1.0 is the paper's optimum; above 1 refreshes earlier */
    public XFetch(double beta) {
        this.beta = beta;
    }

    /**
     * @param nowMs current time
     * @param deltaMs how long the last recompute took
     * @param expiryMs when the entry expires
     * @param uniform a uniform random number in (0, 1]
     */
    public boolean shouldRefresh(long nowMs, long deltaMs, long expiryMs, double uniform) {
        // -ln(u) is exponentially distributed: usually small, occasionally large.
        return nowMs - Math.max(deltaMs, 1) * beta * Math.log(uniform) >= expiryMs;
    }
}
