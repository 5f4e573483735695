package io.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
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
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String[] HEADER = {"CONSUMER", "SOURCE", "PLAN", "STATE", "KEYS", "REQUESTS", "2XX", "4XX", "5XX", "LIMITED",
            "QUOTA LEFT"};
    private static final boolean[] RIGHT = {false, false, false, false, true, true, true, true, true, true, false};

    @Spec
    CommandSpec spec;

    @Option(names = "--admin", paramLabel = "URL", defaultValue = "http://127.0.0.1:9090",
            description = "Admin API of the running Gatehouse (default: ${DEFAULT-VALUE}); host:port works too.")
    String admin;

    @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:GATEHOUSE_ADMIN_TOKEN}",
            description = "Bearer token when admin.token is set (default: $GATEHOUSE_ADMIN_TOKEN).")
    String token;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "5s", converter = DurationConverter.class,
            description = "How long to wait for the admin API (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String base = admin.contains("://") ? admin : "http://" + admin;
        base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        URI uri;
        try {
            uri = URI.create(base + "/consumers");
        } catch (IllegalArgumentException e) {
            err.println("gatehouse consumers: --admin " + admin + " is not a URL like http://127.0.0.1:9090");
            return 1;
        }
        HttpResponse<String> response;
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(timeout).build()) {
            HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout).GET();
            if (token != null && !token.isBlank()) request.header("Authorization", "Bearer " + token);
            response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (HttpTimeoutException e) {
            err.println("gatehouse consumers: no answer from the admin API at " + base + " within " + timeout.toMillis() + " ms");
            return 1;
        } catch (IOException e) {
            err.println("gatehouse consumers: cannot reach the admin API at " + base + " ("
                    + (e instanceof java.net.ConnectException ? "connection refused" : String.valueOf(e.getMessage()))
                    + "); is Gatehouse running, and is --admin its admin.address?");
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
        if (response.statusCode() == 401) {
            err.println("gatehouse consumers: the admin API at " + base + " wants a token: pass --token or set GATEHOUSE_ADMIN_TOKEN");
            return 1;
        }
        JsonNode consumers;
        try {
            JsonNode body = JSON.readTree(response.body());
            consumers = response.statusCode() == 200 && body != null ? body.get("consumers") : null;
            if (consumers == null) {
                String why = body == null ? "" : body.has("detail") ? body.get("detail").asText() : body.path("error").asText("");
                err.println("gatehouse consumers: " + base + "/consumers answered " + response.statusCode() + (why.isEmpty() ? "" : ": " + why));
                return 1;
            }
        } catch (IOException e) {
            err.println("gatehouse consumers: " + base + "/consumers did not answer JSON (is it a Gatehouse admin address?)");
            return 1;
        }
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
        int[] width = new int[HEADER.length];
        for (String[] row : rows) for (int i = 0; i < row.length; i++) width[i] = Math.max(width[i], row[i].length());
        StringBuilder sb = new StringBuilder();
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                if (i > 0) line.append("  ");
                String pad = " ".repeat(width[i] - row[i].length());
                line.append(RIGHT[i] ? pad + row[i] : row[i] + pad);
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
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
