package io.gatehouse.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The access_log, tracing and logging sections: defaults, values and located errors. */
class TelemetryConfigTest {
    private static final String LISTENER = """
            listeners: [ { name: edge, address: 127.0.0.1:0, routes: [ { name: r, direct_response: { status: 200 } } ] } ]
            """;

    @Test
    void telemetryIsOffWhenItsSectionsAreAbsent() throws Exception {
        GatehouseConfig c = ConfigLoader.parse(LISTENER, "t.yaml");
        assertThat(c.accessLog()).isNull();
        assertThat(c.tracing()).isNull();
        assertThat(c.logging().format()).isEqualTo(io.gatehouse.config.LogFormat.TEXT);
    }

    @Test
    void anEmptyAccessLogSectionLogsJsonToStdout() throws Exception {
        GatehouseConfig c = ConfigLoader.parse(LISTENER + "access_log: {}\n", "t.yaml");
        assertThat(c.accessLog()).isEqualTo(new AccessLogConfig("stdout", io.gatehouse.config.AccessLogFormat.JSON, 8192));
        assertThat(c.accessLog().stdout()).isTrue();
    }

    @Test
    void bindsEveryTelemetryKey() throws Exception {
        GatehouseConfig c = ConfigLoader.parse(LISTENER + """
                access_log: { path: /tmp/a.log, format: combined, queue_size: 100 }
                tracing: { otlp_endpoint: "http://collector:4318/", service_name: edge, sample_ratio: 0.25 }
                logging: { format: json }
                """, "t.yaml");
        assertThat(c.accessLog()).isEqualTo(new AccessLogConfig("/tmp/a.log", io.gatehouse.config.AccessLogFormat.COMBINED, 100));
        assertThat(c.tracing().tracesUrl()).isEqualTo("http://collector:4318/v1/traces");
        assertThat(c.tracing().serviceName()).isEqualTo("edge");
        assertThat(c.tracing().sampleRatio()).isEqualTo(0.25);
        assertThat(c.logging().format()).isEqualTo(io.gatehouse.config.LogFormat.JSON);
    }

    @Test
    void reportsWrongValuesWithTheirLocation() {
        assertThatThrownBy(() -> ConfigLoader.parse(LISTENER + """
                access_log: { format: xml }
                tracing: { sample_ratio: 2 }
                logging: { format: yaml }
                """, "t.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("t.yaml:2:23: access_log.format: 'xml' is not one of json, combined")
                .hasMessageContaining("t.yaml:3:10: tracing.otlp_endpoint: required, e.g. http://localhost:4318")
                .hasMessageContaining("t.yaml:4:20: logging.format: 'yaml' is not one of text, json");
    }
}
