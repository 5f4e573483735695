package io.gatehouse.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** The exit code and the captured stdout/stderr of one {@code gatehouse ...} invocation in-process. */
record CommandRun(int exitCode, String out, String err) {
    static CommandRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = GatehouseCommand.commandLine()
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute(args);
        return new CommandRun(code, out.toString(), err.toString());
    }
}
