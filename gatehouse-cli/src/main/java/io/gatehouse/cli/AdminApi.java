package io.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;

/**
 * The options and the one GET that the commands reading a running Gatehouse's admin API share ({@code status},
 * {@code consumers}): a picocli mixin, so each command has the same {@code --admin}, {@code --token} and
 * {@code --timeout}, and the same messages when the API cannot be reached, wants a token or answers an error.
 */
final class AdminApi {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--admin", paramLabel = "URL", defaultValue = "http://127.0.0.1:9090",
            description = "Admin API of the running Gatehouse (default: ${DEFAULT-VALUE}); host:port works too.")
    String admin;

    @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:GATEHOUSE_ADMIN_TOKEN}",
            description = "Bearer token when admin.token is set (default: $GATEHOUSE_ADMIN_TOKEN).")
    String token;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "5s", converter = DurationConverter.class,
            description = "How long to wait for the admin API (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    /**
     * {@code GET path} and the member {@code field} of its JSON answer; null after telling {@code err} (prefixed with
     * {@code gatehouse <command>:}) why there is none.
     */
    JsonNode get(String command, String path, String field, PrintWriter err) {
        String base = admin.contains("://") ? admin : "http://" + admin;
        base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        String prefix = "gatehouse " + command + ": ";
        URI uri;
        try {
            uri = URI.create(base + path);
        } catch (IllegalArgumentException e) {
            err.println(prefix + "--admin " + admin + " is not a URL like http://127.0.0.1:9090");
            return null;
        }
        HttpResponse<String> response;
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(timeout).build()) {
            HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout).GET();
            if (token != null && !token.isBlank()) request.header("Authorization", "Bearer " + token);
            response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (HttpTimeoutException e) {
            err.println(prefix + "no answer from the admin API at " + base + " within " + timeout.toMillis() + " ms");
            return null;
        } catch (IOException e) {
            err.println(prefix + "cannot reach the admin API at " + base + " (" + describe(e)
                    + "); is Gatehouse running, and is --admin its admin.address?");
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        if (response.statusCode() == 401) {
            err.println(prefix + "the admin API at " + base + " wants a token: pass --token or set GATEHOUSE_ADMIN_TOKEN");
            return null;
        }
        try {
            JsonNode body = JSON.readTree(response.body());
            JsonNode found = response.statusCode() == 200 && body != null ? body.get(field) : null;
            if (found == null) {
                String why = body == null ? "" : body.has("detail") ? body.get("detail").asText() : body.path("error").asText("");
                err.println(prefix + base + path + " answered " + response.statusCode() + (why.isEmpty() ? "" : ": " + why));
            }
            return found;
        } catch (IOException e) {
            err.println(prefix + base + path + " did not answer JSON (is it a Gatehouse admin address?)");
            return null;
        }
    }

    /** Rows (the first is the header) as columns two spaces apart, {@code right[i]} columns aligned to the right. */
    static String table(List<String[]> rows, boolean[] right) {
        int[] width = new int[right.length];
        for (String[] row : rows) for (int i = 0; i < row.length; i++) width[i] = Math.max(width[i], row[i].length());
        StringBuilder sb = new StringBuilder();
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                if (i > 0) line.append("  ");
                String pad = " ".repeat(width[i] - row[i].length());
                line.append(right[i] ? pad + row[i] : row[i] + pad);
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
