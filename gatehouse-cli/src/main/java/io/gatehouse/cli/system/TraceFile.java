package io.gatehouse.cli.system;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code gatehouse up --trace-file}: every finished span of the edge and the app instances as one JSON object per
 * line (trace, span, parent, service, name, kind, start and end in epoch nanoseconds), for reading a trace without
 * running a collector; {@code bench/system-hops.py} turns it into the cost of each hop.
 */
public final class TraceFile implements SpanExporter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final BufferedWriter out;

    public TraceFile(Path file) throws IOException {
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
    }

    @Override
    public synchronized CompletableResultCode export(Collection<SpanData> spans) {
        try {
            for (SpanData s : spans) {
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("trace", s.getTraceId());
                line.put("span", s.getSpanId());
                line.put("parent", s.getParentSpanContext().isValid() ? s.getParentSpanId() : null);
                line.put("service", s.getResource().getAttribute(AttributeKey.stringKey("service.name")));
                line.put("name", s.getName());
                line.put("kind", s.getKind().name());
                line.put("start", s.getStartEpochNanos());
                line.put("end", s.getEndEpochNanos());
                out.write(JSON.writeValueAsString(line));
                out.newLine();
            }
            out.flush();
            return CompletableResultCode.ofSuccess();
        } catch (IOException e) {
            return CompletableResultCode.ofFailure();
        }
    }

    @Override
    public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
    }

    /** Shared by every block's span processor: each of them shutting down must not close it for the others. */
    @Override
    public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
    }

    /** Closes the file, once every block is stopped. */
    public synchronized void closeFile() throws IOException {
        out.close();
    }
}
