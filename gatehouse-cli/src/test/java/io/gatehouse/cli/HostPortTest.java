package io.gatehouse.cli;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HostPortTest {
    @Test
    void formatsAddressesWithoutSlashOrResolvedName() {
        assertThat(HostPort.format(new InetSocketAddress("127.0.0.1", 8080))).isEqualTo("127.0.0.1:8080");
        assertThat(HostPort.format(new InetSocketAddress("::1", 8080))).isEqualTo("[0:0:0:0:0:0:0:1]:8080");
    }

    @Test
    void tellsUsersToCurlLocalhostWhenBoundToEveryInterface() {
        assertThat(HostPort.reachable(new InetSocketAddress("0.0.0.0", 8080))).isEqualTo("localhost:8080");
        assertThat(HostPort.reachable(new InetSocketAddress("127.0.0.2", 8080))).isEqualTo("127.0.0.2:8080");
    }

    @Test
    void acceptsHostPortAndRejectsTheRest() {
        HostPort.require("--listen", "0.0.0.0:8080");
        HostPort.require("--listen", "[::]:0");
        assertThatThrownBy(() -> HostPort.require("--listen", "8080")).hasMessage("--listen: missing port in '8080'; expected host:port");
        assertThatThrownBy(() -> HostPort.require("--listen", "localhost:")).hasMessage("--listen: '' is not a port; expected 1..65535");
        assertThatThrownBy(() -> HostPort.require("--listen", "localhost:99999")).hasMessageContaining("--listen: port 99999 is out of range");
        assertThatThrownBy(() -> HostPort.require("--to", "::1:80")).hasMessageContaining("needs brackets");
    }
}
