package io.gatehouse.app.db;

import java.sql.Connection;
import java.sql.SQLException;

/** A unit of JDBC work on one connection. */
@FunctionalInterface
public interface Sql<T> {
    T run(Connection c) throws SQLException;
}
