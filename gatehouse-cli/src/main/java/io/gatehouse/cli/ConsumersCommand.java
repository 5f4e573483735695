package io.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code gatehouse consumers}: every consumer of a running Gatehouse (configured and managed at runtime), with its
 * usage on that edge and what is left of its quotas, read from the admin API's {@code /consumers}.
 */
@Command(name = "consumers", description = "List the consumers of a running Gatehouse with their usage and remaining quota (from its admin API).",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:printed the consumers", "1:the admin API could not be reached or refused the request"})
final class ConsumersCommand implements Callable<Integer> {
    static final String[] HEADER = {"CONSUMER", "SOURCE", "PLAN", "STATE", "KEYS", "REQUESTS", "2XX", "4XX", "5XX", "LIMITED",
            "QUOTA LEFT"};
    private static final boolean[] RIGHT = {false, false, false, false, true, true, true, true, true, true, false};

    @Spec
    CommandSpec spec;

    @Mixin
    AdminApi api;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        JsonNode consumers = api.get("consumers", "/consumers", "consumers", err);
        if (consumers == null) return 1;
        if (consumers.isEmpty()) {
            out.println("no consumers");
        } else {
            out.print(table(consumers));
        }
        out.flush();
        return 0;
    }

    /** One line per consumer; usage is this edge's since it started, quotas are shared by every edge. */
    static String table(JsonNode consumers) {
        List<String[]> rows = new ArrayList<>();
        rows.add(HEADER);
        for (JsonNode c : consumers) {
            JsonNode u = c.path("usage");
            rows.add(new String[] {
                    c.path("name").asText(),
                    c.path("source").asText(),
                    c.path("plan").isTextual() ? c.path("plan").asText() : "-",
                    c.path("disabled").asBoolean() ? "disabled" : "enabled",
                    c.path("api_keys").asText(),
                    u.path("requests").asText("0"),
                    u.path("2xx").asText("0"),
                    u.path("4xx").asText("0"),
                    u.path("5xx").asText("0"),
                    u.path("limited").asText("0"),
                    quotas(c.path("quotas"))});
        }
        return AdminApi.table(rows, RIGHT);
    }

    /** {@code 98/100 today, 2998/3000 month (edge/api)} for each quota route; {@code -} without quotas. */
    private static String quotas(JsonNode quotas) {
        if (!quotas.isArray() || quotas.isEmpty()) return "-";
        List<String> parts = new ArrayList<>();
        for (JsonNode q : quotas) {
            if (q.has("error")) {
                parts.add("? (" + q.path("route").asText() + ": " + q.path("error").asText() + ")");
                continue;
            }
            List<String> p = new ArrayList<>();
            if (q.has("per_day")) p.add(q.path("left_today").asText() + "/" + q.path("per_day").asText() + " today");
            if (q.has("per_month")) p.add(q.path("left_this_month").asText() + "/" + q.path("per_month").asText() + " month");
            parts.add(String.join(", ", p) + " (" + q.path("route").asText() + ")");
        }
        return String.join("; ", parts);
    }
}
