package io.gatehouse.cli;

import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import org.junit.jupiter.api.Test;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class KeysCommandTest {
    @Test
    void printsAFreshKeyOnceAndTheHashLineThatLoadsAsTheConsumersKey() throws Exception {
        CommandRun first = CommandRun.of("keys", "new", "shop");
        CommandRun second = CommandRun.of("keys", "new", "shop");
        assertThat(first.exitCode()).isZero();
        Matcher key = Pattern.compile("\\n  (gh_[A-Za-z0-9_-]{43})\\n").matcher(first.out());
        assertThat(key.find()).as(first.out()).isTrue();
        assertThat(second.out()).doesNotContain(key.group(1));
        Matcher line = Pattern.compile("      - \\{sha256: ([0-9a-f]{64})}").matcher(first.out());
        assertThat(line.find()).isTrue();
        assertThat(line.group(1)).isEqualTo(io.gatehouse.cli.system.ApiKeyFile.sha256(key.group(1)));
        assertThat(first.out()).doesNotContain(line.group(1).substring(0, 8) + key.group(1));

        GatehouseConfig config = ConfigLoader.parse("""
                listeners: [{name: edge, address: 127.0.0.1:0, routes: [{name: r, direct_response: {status: 200}}]}]
                consumers:
                  - name: shop
                    api_keys:
                %s
                """.formatted(line.group(0)), "keys.yaml");
        assertThat(config.consumers().get(0).apiKeys().get(0).sha256()).isEqualTo(line.group(1));
    }

    @Test
    void refusesAConsumerNameThatCouldNotTravelInAHeader() {
        CommandRun run = CommandRun.of("keys", "new", "shop\r\nx");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("CONSUMER: letters, digits and");
    }
}
