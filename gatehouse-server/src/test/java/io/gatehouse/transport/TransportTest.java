package io.gatehouse.transport;

import io.gatehouse.GatehouseFixture;
import io.gatehouse.testing.TestBackend;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static io.gatehouse.Prerequisites.require;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The same proxying over every transport: NIO everywhere, native epoll and io_uring where the kernel offers them. */
class TransportTest {
    @RegisterExtension
    final TestBackend backend = new TestBackend().name("origin");

    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll", "io_uring", "auto"})
    void proxiesOverTheTransport(String transport) {
        // epoll ships with the build (native jar for Linux x86_64/aarch64): CI must run it. io_uring depends on the
        // kernel and on the sandbox (containers often forbid its syscalls), which no install can change: skipped there.
        if (transport.equals("epoll")) require(Epoll.isAvailable(), "native epoll: " + Epoll.unavailabilityCause());
        assumeTrue(!transport.equals("io_uring") || IoUring.isAvailable(), "io_uring not available here");
        try (GatehouseFixture g = GatehouseFixture.start("""
                server: { transport: %s, event_loops: 1 }
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes: [ { name: all, cluster: app } ]
                clusters:
                  - name: app
                    endpoints: [ "%s" ]
                """.formatted(transport, backend.address()))) {
            for (int i = 0; i < 3; i++) {
                assertThat(g.get("/t" + i).body()).isEqualTo("origin");
            }
            assertThat(backend.connectionsAccepted()).isEqualTo(1); // kept alive over this transport too
        }
    }

    @org.junit.jupiter.api.Test
    void autoPrefersEpollWhenAvailable() {
        assertThat(Transport.select("auto").name()).isEqualTo(Epoll.isAvailable() ? "epoll" : "nio");
    }
}
