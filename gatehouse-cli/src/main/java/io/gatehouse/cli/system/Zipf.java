package io.gatehouse.cli.system;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/** Ranks 0..n-1 drawn with probability ∝ 1/(rank+1)^s: a few hot links and a long tail, like real traffic. */
public final class Zipf {
    private final double[] cdf;

    public Zipf(int n, double s) {
        cdf = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += 1.0 / Math.pow(i + 1, s);
            cdf[i] = sum;
        }
        for (int i = 0; i < n; i++) cdf[i] /= sum;
    }

    public int next(RandomGenerator random) {
        int i = Arrays.binarySearch(cdf, random.nextDouble());
        return Math.min(i >= 0 ? i : -i - 1, cdf.length - 1);
    }
}
