package io.gatehouse.app.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/** JSON in and out of handlers, by hand: one ObjectMapper, no media-support magic, bounded request bodies. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);
    /** A link or a sign-up fits easily; anything bigger is a mistake or an attack. */
    static final int MAX_BODY = 16 * 1024;

    private Json() {}

    public static ObjectNode object() { return MAPPER.createObjectNode(); }

    /** Reads the request body as a JSON object, or throws a 400 problem saying what is wrong. */
    public static JsonNode body(ServerRequest req) {
        String type = req.headers().first(HeaderNames.CONTENT_TYPE).orElse("");
        if (!type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
            throw new ProblemException(415, "unsupported-media-type", "Unsupported media type",
                    "send the body as application/json");
        }
        byte[] bytes;
        try (InputStream in = req.content().inputStream()) {
            bytes = in.readNBytes(MAX_BODY + 1);
        } catch (IOException e) {
            throw ProblemException.badRequest("unreadable-body", "the request body could not be read");
        }
        if (bytes.length > MAX_BODY) {
            throw new ProblemException(413, "body-too-large", "Body too large", "the body exceeds " + MAX_BODY + " bytes");
        }
        try {
            JsonNode node = MAPPER.readTree(bytes);
            if (node == null || !node.isObject()) throw ProblemException.badRequest("invalid-json", "the body must be a JSON object");
            return node;
        } catch (IOException e) {
            throw ProblemException.badRequest("invalid-json", "the body is not valid JSON");
        }
    }

    public static void send(ServerResponse res, int status, Object value) {
        try {
            res.status(status);
            res.header(HeaderNames.CONTENT_TYPE, "application/json");
            res.send(MAPPER.writeValueAsBytes(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static void problem(ServerResponse res, ProblemException p) {
        ObjectNode body = object()
                .put("type", "/problems/" + p.type())
                .put("title", p.title())
                .put("status", p.status())
                .put("detail", p.detail());
        try {
            res.status(p.status());
            res.header(HeaderNames.CONTENT_TYPE, "application/problem+json");
            res.send(MAPPER.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Optional text field: absent or null gives null; any other non-text value is a 400. */
    public static String text(JsonNode body, String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isTextual()) throw ProblemException.badRequest("invalid-field", "'" + field + "' must be a string");
        return n.asText();
    }

    public static boolean bool(JsonNode body, String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) return false;
        if (!n.isBoolean()) throw ProblemException.badRequest("invalid-field", "'" + field + "' must be true or false");
        return n.booleanValue();
    }

    public static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }
}
