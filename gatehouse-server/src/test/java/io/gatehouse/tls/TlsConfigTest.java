package io.gatehouse.tls;

import io.gatehouse.config.AlpnProtocol;
import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.TlsConfig;
import io.gatehouse.config.TlsVersion;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The tls: keys: defaults, and errors located at file:line:column. */
class TlsConfigTest {
    private static GatehouseConfig parse(String tls) throws ConfigException {
        return ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    tls: %s
                    routes: [{name: ok, direct_response: {status: 200}}]
                admin: {address: "off"}
                """.formatted(tls), "tls.yaml");
    }

    @Test
    void defaultsAreTls12WithH2AndHttp11AlpnNoClientAuthAndTwoSecondReloads() throws ConfigException {
        TlsConfig tls = parse("{certificates: [{cert: a.crt, key: a.key}]}").listeners().get(0).tls();
        assertThat(tls.minVersion()).isEqualTo(TlsVersion.TLS_1_2);
        assertThat(tls.alpn()).containsExactly(AlpnProtocol.H2, AlpnProtocol.HTTP_1_1);
        assertThat(tls.clientAuth()).isEqualTo(io.gatehouse.config.ClientAuthMode.NONE);
        assertThat(tls.provider()).isEqualTo(io.gatehouse.config.TlsProviderChoice.AUTO);
        assertThat(tls.reloadInterval()).hasSeconds(2);
        assertThat(tls.sessionTicketRotation()).hasHours(1);
    }

    @Test
    void alpnMustOfferHttp11AndKnowsOnlyH2Besides() {
        assertThatThrownBy(() -> parse("{alpn: [h2], certificates: [{cert: a.crt, key: a.key}]}"))
                .hasMessage("tls.yaml:4:11: listeners[0].tls.alpn: http/1.1 is required (clients without ALPN speak it)");
        assertThatThrownBy(() -> parse("{alpn: [h3, http/1.1], certificates: [{cert: a.crt, key: a.key}]}"))
                .hasMessage("tls.yaml:4:18: listeners[0].tls.alpn[0]: 'h3' is not one of h2, http/1.1; "
                        + "HTTP/3 runs over QUIC, which Gatehouse does not serve");
    }

    @Test
    void tls11IsRefusedAsMinimumVersion() {
        assertThatThrownBy(() -> parse("{min_version: \"1.1\", certificates: [{cert: a.crt, key: a.key}]}"))
                .hasMessage("tls.yaml:4:24: listeners[0].tls.min_version: '1.1' is not one of 1.2, 1.3; "
                        + "TLS 1.1 is not supported (insecure); use 1.2 or 1.3");
    }

    @Test
    void versionsAreAlsoAcceptedByTheirJdkNamesInAnyCase() throws ConfigException {
        assertThat(parse("{min_version: TLSv1.3, certificates: [{cert: a.crt, key: a.key}]}").listeners().get(0).tls().minVersion())
                .isEqualTo(TlsVersion.TLS_1_3);
        assertThat(parse("{min_version: tlsv1.2, certificates: [{cert: a.crt, key: a.key}]}").listeners().get(0).tls().minVersion())
                .isEqualTo(TlsVersion.TLS_1_2);
        assertThat(parse("{min_version: 1.3, alpn: [http/1.1], certificates: [{cert: a.crt, key: a.key}]}").listeners().get(0).tls())
                .extracting(TlsConfig::minVersion, TlsConfig::alpn)
                .containsExactly(TlsVersion.TLS_1_3, java.util.List.of(AlpnProtocol.HTTP_1_1));
    }

    @Test
    void clientAuthNeedsAClientCa() {
        assertThatThrownBy(() -> parse("{client_auth: require, certificates: [{cert: a.crt, key: a.key}]}"))
                .hasMessageContaining("listeners[0].tls.client_ca: is required with client_auth: require");
    }

    @Test
    void aCertificateNeedsItsKey() {
        assertThatThrownBy(() -> parse("{certificates: [{cert: a.crt}]}"))
                .hasMessageContaining("listeners[0].tls.certificates[0].key: is required");
    }

    @Test
    void ocspFetchIsOffUnlessACertificateAsksForIt() throws ConfigException {
        TlsConfig tls = parse("{certificates: [{cert: a.crt, key: a.key}, {cert: b.crt, key: b.key, ocsp_fetch: true}]}")
                .listeners().get(0).tls();
        assertThat(tls.certificates().get(0).ocspFetch()).isFalse();
        assertThat(tls.certificates().get(1).ocspFetch()).isTrue();
        assertThatThrownBy(() -> parse("{certificates: [{cert: a.crt, key: a.key, ocsp_fetch: sometimes}]}"))
                .hasMessageContaining("ocsp_fetch");
    }
}
