package io.gatehouse.app.db;

/** The database could not do what was asked (down, timed out, or a bug in SQL): the caller answers 503. */
public final class DatabaseException extends RuntimeException {
    public DatabaseException(String message, Throwable cause) {
        super(message, cause);
    }
}
