package io.gatehouse.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class DashboardAssetsTest {
    private static String body(FullHttpResponse response) {
        try {
            return response.content().toString(StandardCharsets.UTF_8);
        } finally {
            response.release();
        }
    }

    @Test
    void servesTheIndexPageForTheDashboardRoot() {
        for (String path : List.of("/dashboard/", "/dashboard", "/dashboard/index.html")) {
            FullHttpResponse response = DashboardAssets.serve(path);
            assertThat(response).as(path).isNotNull();
            assertThat(response.status()).isEqualTo(HttpResponseStatus.OK);
            assertThat(response.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("text/html; charset=utf-8");
            assertThat(body(response)).contains("<title>Gatehouse</title>", "/dashboard/main.js");
        }
    }

    @Test
    void servesScriptsAndStylesWithTheirContentTypesNoCacheAndAnEtag() {
        FullHttpResponse js = DashboardAssets.serve("/dashboard/main.js");
        FullHttpResponse css = DashboardAssets.serve("/dashboard/dashboard.css");
        assertThat(js.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("text/javascript; charset=utf-8");
        assertThat(css.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("text/css; charset=utf-8");
        assertThat(js.headers().get(HttpHeaderNames.CACHE_CONTROL)).isEqualTo("no-cache");
        assertThat(js.headers().get(HttpHeaderNames.ETAG)).matches("\"[0-9a-f]{24}\"")
                .isNotEqualTo(css.headers().get(HttpHeaderNames.ETAG));
        assertThat(js.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(js.content().readableBytes());
        assertThat(body(js)).contains("import");
        assertThat(body(css)).contains("--healthy");
    }

    @Test
    void answersNotModifiedWhenTheBrowserHasTheCurrentVersion() {
        FullHttpResponse first = DashboardAssets.serve("/dashboard/api.js");
        String etag = first.headers().get(HttpHeaderNames.ETAG);
        first.release();
        FullHttpResponse again = DashboardAssets.serve("/dashboard/api.js", "\"old\", " + etag);
        assertThat(again.status()).isEqualTo(HttpResponseStatus.NOT_MODIFIED);
        assertThat(again.content().readableBytes()).isZero();
        FullHttpResponse stale = DashboardAssets.serve("/dashboard/api.js", "\"old\"");
        assertThat(stale.status()).isEqualTo(HttpResponseStatus.OK);
        assertThat(body(stale)).contains("Bearer");
    }

    @Test
    void rejectsTraversalAndUnknownPaths() {
        for (String path : List.of("/dashboard/../io/gatehouse/admin/DashboardAssets.class", "/dashboard/..%2fpom.xml",
                "/dashboard/%2e%2e/x", "/dashboard//etc/passwd", "/dashboard/..\\main.js", "/dashboard/missing.js",
                "/dashboard/MAIN.JS", "/dashboardmain.js", "/main.js", "/", "")) {
            assertThat(DashboardAssets.serve(path)).as(path).isNull();
        }
        assertThat(DashboardAssets.serve(null)).isNull();
    }

    @Test
    void everyBundledFileIsServed() throws IOException, URISyntaxException {
        Path folder = Path.of(DashboardAssets.class.getResource("/io/gatehouse/admin/dashboard/").toURI());
        try (Stream<Path> files = Files.list(folder)) {
            List<String> names = files.map(p -> p.getFileName().toString()).toList();
            assertThat(names).contains("index.html", "main.js");
            for (String name : names) {
                FullHttpResponse response = DashboardAssets.serve("/dashboard/" + name);
                assertThat(response).as(name + " is bundled but not listed in DashboardAssets").isNotNull();
                response.release();
            }
        }
    }
}
