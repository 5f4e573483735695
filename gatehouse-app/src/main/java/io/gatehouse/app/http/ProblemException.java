package io.gatehouse.app.http;

/**
 * An error that becomes an RFC 9457 {@code application/problem+json} response. The {@code type} is a short slug
 * under {@code /problems/} so clients can branch on it without parsing the human text.
 */
public final class ProblemException extends RuntimeException {
    private final int status;
    private final String type;
    private final String title;

    public ProblemException(int status, String type, String title, String detail) {
        super(detail, null, false, false); // a control-flow signal: no stack trace to fill
        this.status = status;
        this.type = type;
        this.title = title;
    }

    public static ProblemException badRequest(String type, String detail) {
        return new ProblemException(400, type, "Invalid request", detail);
    }

    public static ProblemException notFound(String detail) {
        return new ProblemException(404, "not-found", "Not found", detail);
    }

    public int status() { return status; }
    public String type() { return type; }
    public String title() { return title; }
    public String detail() { return getMessage(); }
}
