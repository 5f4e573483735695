package io.gatehouse.cli.system;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code gatehouse db promote}: fail over the database of a running {@code gatehouse up}. */
@Command(name = "db", description = "Database operations on a running `gatehouse up`.", subcommands = DbCommand.Promote.class)
public final class DbCommand {

    @Command(name = "promote", description = {"Stop (fence) the primary, promote the replica and repoint every app",
            "instance's writes to it. Replication is asynchronous: commits the replica had not received are lost."})
    static final class Promote implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            String home = System.getenv("GATEHOUSE_HOME");
            Path portFile = Path.of(home == null || home.isBlank() ? ".gatehouse" : home).resolve(ControlChannel.PORT_FILE);
            if (!Files.exists(portFile)) {
                spec.commandLine().getErr().println("no running `gatehouse up` found (" + portFile + " is missing)");
                return 1;
            }
            URI uri = URI.create("http://127.0.0.1:" + Files.readString(portFile).trim() + "/db/promote");
            try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(90))
                        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                java.io.PrintWriter w = r.statusCode() == 200 ? spec.commandLine().getOut() : spec.commandLine().getErr();
                w.print(r.body());
                w.flush();
                return r.statusCode() == 200 ? 0 : 1;
            } catch (ConnectException e) {
                spec.commandLine().getErr().println("`gatehouse up` does not answer at " + uri + " (stopped?)");
                return 1;
            }
        }
    }
}
