package io.gatehouse.config;

/**
 * Access log: one line per request, written off the event loops. Absent from the file means no access log.
 *
 * @param path      {@code stdout} (default) or a file, appended to
 * @param format    {@code json} (default: one object per line) or {@code combined} (nginx/Apache combined format)
 * @param queueSize lines waiting for the writer; when full, lines are dropped and counted (metric
 *                  {@code gatehouse_access_log_dropped_total}) rather than slowing requests down
 */
public record AccessLogConfig(String path, AccessLogFormat format, int queueSize) {
    public AccessLogConfig {
        path = path == null || path.isBlank() ? "stdout" : path;
        format = format == null ? AccessLogFormat.JSON : format;
        queueSize = queueSize == 0 ? 8192 : queueSize;
        if (queueSize < 1 || queueSize > 1_000_000) throw new IllegalArgumentException("queue_size: must be 1..1000000");
    }

    public boolean stdout() {
        return path.equals("stdout");
    }
}
