package io.gatehouse.cluster.health;

/** The outcome of one probe: success or failure, with a short human reason ({@code status 503}, {@code connect refused}). */
record ProbeResult(boolean success, String detail) {
    static ProbeResult success(String detail) { return new ProbeResult(true, detail); }
    static ProbeResult failure(String detail) { return new ProbeResult(false, detail); }
}
