package io.gatehouse.config;

/**
 * OpenTelemetry tracing of proxied requests, exported over OTLP/HTTP. Absent from the file means off (no cost).
 *
 * @param otlpEndpoint base URL of the collector, e.g. {@code http://localhost:4318} ({@code /v1/traces} is appended)
 * @param serviceName  {@code service.name} of the spans (default {@code gatehouse})
 * @param sampleRatio  share of new traces sampled, 0..1 (default 1); a sampled parent is always followed
 */
public record TracingConfig(String otlpEndpoint, String serviceName, Double sampleRatio) {
    public TracingConfig {
        if (otlpEndpoint == null || otlpEndpoint.isBlank()) {
            throw new IllegalArgumentException("otlp_endpoint: required, e.g. http://localhost:4318");
        }
        if (!otlpEndpoint.startsWith("http://") && !otlpEndpoint.startsWith("https://")) {
            throw new IllegalArgumentException("otlp_endpoint: must start with http:// or https://, got '" + otlpEndpoint + "'");
        }
        serviceName = serviceName == null || serviceName.isBlank() ? "gatehouse" : serviceName;
        sampleRatio = sampleRatio == null ? 1.0 : sampleRatio;
        if (sampleRatio < 0 || sampleRatio > 1) throw new IllegalArgumentException("sample_ratio: must be 0..1");
    }

    /** The OTLP/HTTP traces URL. */
    public String tracesUrl() {
        String base = otlpEndpoint.endsWith("/") ? otlpEndpoint.substring(0, otlpEndpoint.length() - 1) : otlpEndpoint;
        return base.endsWith("/v1/traces") ? base : base + "/v1/traces";
    }
}
