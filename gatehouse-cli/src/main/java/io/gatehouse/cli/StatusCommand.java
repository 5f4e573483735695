package io.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code gatehouse status}: the clusters and endpoints of a running Gatehouse, read from its admin API. */
@Command(name = "status", description = "Show every cluster and endpoint of a running Gatehouse (from its admin API).",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:printed the status", "1:the admin API could not be reached or refused the request"})
final class StatusCommand implements Callable<Integer> {
    static final String[] HEADER = {"CLUSTER", "POLICY", "MODE", "ENDPOINT", "STATE", "WEIGHT", "IN-FLIGHT", "REQ/S",
            "ERRORS", "P99 MS"};
    /** Columns aligned to the right (numbers). */
    private static final boolean[] RIGHT = {false, false, false, false, false, true, true, true, true, true};

    @Spec
    CommandSpec spec;

    @Mixin
    AdminApi api;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        JsonNode clusters = api.get("status", "/clusters", "clusters", err);
        if (clusters == null) return 1;
        out.print(table(clusters));
        out.flush();
        return 0;
    }

    /** One line per endpoint; the cluster's columns only on its first line. */
    static String table(JsonNode clusters) {
        List<String[]> rows = new ArrayList<>();
        rows.add(HEADER);
        for (JsonNode c : clusters) {
            boolean first = true;
            for (JsonNode e : c.path("endpoints")) {
                rows.add(new String[] {
                        first ? c.path("cluster").asText() : "",
                        first ? c.path("policy").asText() : "",
                        first ? c.path("mode").asText() : "",
                        e.path("address").asText(),
                        e.path("state").asText(),
                        e.path("weight").asText(),
                        e.path("in_flight").asText(),
                        String.format(Locale.ROOT, "%.1f", e.path("requests_per_second").asDouble()),
                        e.path("errors_total").asText(),
                        String.format(Locale.ROOT, "%.1f", e.path("latency_ms").path("p99").asDouble())});
                first = false;
            }
        }
        return AdminApi.table(rows, RIGHT);
    }
}
