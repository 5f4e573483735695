package io.gatehouse.cli;

import io.gatehouse.Gatehouse;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetAddress;
import java.net.ServerSocket;

import static org.assertj.core.api.Assertions.assertThat;

class StatusCommandTest {
    @RegisterExtension
    final TestBackend one = new TestBackend().name("one");
    @RegisterExtension
    final TestBackend two = new TestBackend().name("two");

    private Gatehouse start(String token) throws Exception {
        return Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ "%s", { address: "%s", weight: 3 } ]
                    load_balancer: { policy: least_request }
                admin: { address: "127.0.0.1:0"%s }
                """.formatted(one.address(), two.address(), token == null ? "" : ", token: " + token), "status.yaml"));
    }

    @Test
    void printsOneAlignedLinePerEndpointOfTheRunningGatehouse() throws Exception {
        try (Gatehouse g = start(null)) {
            String admin = "http://127.0.0.1:" + g.adminAddress().getPort();

            CommandRun run = CommandRun.of("status", "--admin", admin);

            assertThat(run.exitCode()).as(run.err()).isZero();
            String[] lines = run.out().split("\n");
            assertThat(lines).hasSize(3);
            assertThat(lines[0]).startsWith("CLUSTER").contains("POLICY", "MODE", "ENDPOINT", "STATE", "WEIGHT",
                    "IN-FLIGHT", "REQ/S", "ERRORS", "P99 MS");
            assertThat(lines[1].split("\\s+")).containsExactly("app", "least_request", "normal", one.address(),
                    "healthy", "1", "0", "0.0", "0", "0.0");
            assertThat(lines[2].split("\\s+")).containsExactly("", two.address(), "healthy", "3", "0", "0.0", "0", "0.0");
            assertThat(lines[2].indexOf(two.address())).isEqualTo(lines[1].indexOf(one.address()));
            assertThat(lines[2].length()).isEqualTo(lines[1].length());   // numbers are right-aligned in columns
        }
    }

    @Test
    void sendsTheTokenAndSaysSoWhenItIsMissing() throws Exception {
        try (Gatehouse g = start("s3cret")) {
            String admin = "127.0.0.1:" + g.adminAddress().getPort();

            CommandRun without = CommandRun.of("status", "--admin", admin, "--token", "");
            CommandRun with = CommandRun.of("status", "--admin", admin, "--token", "s3cret");

            assertThat(without.exitCode()).isEqualTo(1);
            assertThat(without.err()).contains("wants a token", "--token");
            assertThat(with.exitCode()).isZero();
            assertThat(with.out()).contains(one.address());
        }
    }

    @Test
    void failsClearlyWhenTheAdminApiCannotBeReached() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();   // free once closed: nothing listens there
        }

        CommandRun run = CommandRun.of("status", "--admin", "http://127.0.0.1:" + port, "--timeout", "2s");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("cannot reach the admin API at http://127.0.0.1:" + port, "connection refused");
        assertThat(run.out()).isEmpty();
    }
}
