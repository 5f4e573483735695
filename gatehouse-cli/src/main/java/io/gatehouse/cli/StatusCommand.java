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
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code gatehouse status}: the clusters and endpoints of a running Gatehouse, read from its admin API. */
@Command(name = "status", description = "Show every cluster and endpoint of a running Gatehouse (from its admin API).",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:printed the status", "1:the admin API could not be reached or refused the request"})
final class StatusCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String[] HEADER = {"CLUSTER", "POLICY", "MODE", "ENDPOINT", "STATE", "WEIGHT", "IN-FLIGHT", "REQ/S",
            "ERRORS", "P99 MS"};
    /** Columns aligned to the right (numbers). */
    private static final boolean[] RIGHT = {false, false, false, false, false, true, true, true, true, true};

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
            uri = URI.create(base + "/clusters");
        } catch (IllegalArgumentException e) {
            err.println("gatehouse status: --admin " + admin + " is not a URL like http://127.0.0.1:9090");
            return 1;
        }
        HttpResponse<String> response;
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(timeout).build()) {
            HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout).GET();
            if (token != null && !token.isBlank()) request.header("Authorization", "Bearer " + token);
            response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (HttpTimeoutException e) {
            err.println("gatehouse status: no answer from the admin API at " + base + " within " + timeout.toMillis() + " ms");
            return 1;
        } catch (IOException e) {
            err.println("gatehouse status: cannot reach the admin API at " + base + " (" + describe(e)
                    + "); is Gatehouse running, and is --admin its admin.address?");
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
        if (response.statusCode() == 401) {
            err.println("gatehouse status: the admin API at " + base + " wants a token: pass --token or set GATEHOUSE_ADMIN_TOKEN");
            return 1;
        }
        JsonNode clusters;
        try {
            JsonNode body = JSON.readTree(response.body());
            clusters = response.statusCode() == 200 && body != null ? body.get("clusters") : null;
            if (clusters == null) {
                err.println("gatehouse status: " + base + "/clusters answered " + response.statusCode()
                        + (body != null && body.has("error") ? ": " + body.get("error").asText() : ""));
                return 1;
            }
        } catch (IOException e) {
            err.println("gatehouse status: " + base + "/clusters did not answer JSON (is it a Gatehouse admin address?)");
            return 1;
        }
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

    private static String describe(IOException e) {
        String m = e.getMessage();
        if (e instanceof java.net.ConnectException) return "connection refused";
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
