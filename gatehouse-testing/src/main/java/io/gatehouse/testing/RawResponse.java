package io.gatehouse.testing;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One HTTP/1.1 response as {@link RawClient} read it off the wire.
 *
 * @param version e.g. {@code "HTTP/1.1"}
 * @param status the status code
 * @param reason the reason phrase, possibly empty
 * @param headers the header fields in wire order, names as sent
 * @param body the body bytes (de-chunked), as far as they came
 * @param trailers the trailer fields of a chunked body, in wire order
 * @param complete {@code false} when the connection ended (closed or reset) before the announced body did
 */
public record RawResponse(
        String version,
        int status,
        String reason,
        List<Header> headers,
        byte[] body,
        List<Header> trailers,
        boolean complete) {

    /** One header field. */
    public record Header(String name, String value) {
    }

    /** The first value of the header {@code name} (case-insensitive), or {@code null}. */
    public String header(String name) {
        return headers.stream().filter(h -> h.name().equalsIgnoreCase(name)).map(Header::value).findFirst()
                .orElse(null);
    }

    /** All values of the header {@code name} (case-insensitive), in wire order. */
    public List<String> headers(String name) {
        return headers.stream().filter(h -> h.name().equalsIgnoreCase(name)).map(Header::value).toList();
    }

    /** The body decoded as UTF-8. */
    public String bodyAsString() {
        return new String(body, StandardCharsets.UTF_8);
    }

    /** Whether this is a 1xx interim response (a final one follows on the same connection). */
    public boolean isInterim() {
        return status >= 100 && status < 200 && status != 101;
    }

    @Override
    public String toString() {
        return version + " " + status + " " + reason + " " + headers + " (" + body.length + " body bytes"
                + (complete ? "" : ", truncated") + ")";
    }
}
