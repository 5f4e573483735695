package io.gatehouse.cli;

import io.gatehouse.cli.system.ApiKeyFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code gatehouse keys new CONSUMER}: makes an API key (256 random bits) and prints it once, with the line that puts
 * its hash under the consumer in the configuration. The key itself is never stored anywhere.
 */
@Command(name = "keys", description = "Make API keys for consumers.", subcommands = KeysCommand.New.class)
final class KeysCommand {

    @Command(name = "new", description = "Print a new API key for CONSUMER and the line to add to its api_keys.")
    static final class New implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "CONSUMER", description = "the consumer's name, as in the configuration's consumers:")
        String consumer;

        @Override
        public void run() {
            if (!consumer.matches("[A-Za-z0-9][A-Za-z0-9._:/@-]{0,255}")) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        "CONSUMER: letters, digits and . _ : / @ - only");
            }
            String key = ApiKeyFile.newKey();
            var out = spec.commandLine().getOut();
            out.println("API key for " + consumer + " (shown once; give it to the consumer, keep no copy):");
            out.println();
            out.println("  " + key);
            out.println();
            out.println("Add under consumers: -> name: " + consumer + " -> api_keys: (then reload):");
            out.println();
            out.println("      - {sha256: " + ApiKeyFile.sha256(key) + "}");
            out.println();
            out.println("To rotate, add the new key's line and set expires: on the old one; both work until then.");
        }
    }
}
