package io.gatehouse.admin;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The dashboard's static files (HTML, CSS, ES modules), bundled under {@code io/gatehouse/admin/dashboard/} and read
 * from the classpath once, so serving them on the admin event loop never touches the disk. Only the files named
 * here exist: any other path, including every traversal attempt, is unknown ({@code null}).
 */
public final class DashboardAssets {
    /** Where the admin listener mounts the dashboard. */
    public static final String PREFIX = "/dashboard/";

    private static final String ROOT = "io/gatehouse/admin/dashboard/";
    private static final List<String> FILES = List.of(
            "index.html", "dashboard.css", "dom.js", "api.js", "format.js", "charts.js", "topology.js", "clusters.js",
            "activity.js", "routes.js", "gateway.js", "cache.js", "blocks.js", "main.js", "favicon.svg");
    // The page only talks to the admin API it came from; no inline scripts, no framing (the buttons change state).
    private static final String CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    private static final Map<String, Asset> ASSETS = load();

    private record Asset(byte[] body, String contentType, String etag) {}

    private DashboardAssets() {}

    /**
     * The file for a request path under {@link #PREFIX} ({@code /dashboard/} itself is the index page), or
     * {@code null} when there is no such file.
     */
    public static FullHttpResponse serve(String path) {
        return serve(path, null);
    }

    /**
     * Like {@link #serve(String)}; answers {@code 304 Not Modified} without a body when {@code ifNoneMatch} (the
     * request's {@code If-None-Match}, may be null) names the file's current ETag.
     */
    public static FullHttpResponse serve(String path, String ifNoneMatch) {
        Asset asset = find(path);
        if (asset == null) return null;
        boolean unchanged = ifNoneMatch != null && (ifNoneMatch.equals(asset.etag) || ifNoneMatch.equals("*")
                || List.of(ifNoneMatch.split("\\s*,\\s*")).contains(asset.etag));
        FullHttpResponse response = unchanged
                ? new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED)
                : new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                        Unpooled.wrappedBuffer(asset.body));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, asset.contentType)
                .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                .set(HttpHeaderNames.ETAG, asset.etag)
                .set(HttpHeaderNames.CONTENT_SECURITY_POLICY, CSP)
                .set("X-Content-Type-Options", "nosniff")
                .set("Referrer-Policy", "no-referrer")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, unchanged ? 0 : asset.body.length);
        return response;
    }

    private static Asset find(String path) {
        if (path == null) return null;
        String name;
        if (path.equals("/dashboard") || path.equals(PREFIX)) name = "index.html";
        else if (path.startsWith(PREFIX)) name = path.substring(PREFIX.length());
        else return null;
        // Exact names only: "..", "%2e", "/" or "\" can never match a bundled file, so nothing escapes the folder.
        return ASSETS.get(name);
    }

    private static Map<String, Asset> load() {
        Map<String, Asset> assets = new LinkedHashMap<>();
        for (String file : FILES) {
            try (InputStream in = DashboardAssets.class.getClassLoader().getResourceAsStream(ROOT + file)) {
                if (in == null) throw new IllegalStateException("dashboard file missing from the classpath: " + ROOT + file);
                byte[] body = in.readAllBytes();
                assets.put(file, new Asset(body, contentType(file), etag(body)));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read dashboard file " + ROOT + file, e);
            }
        }
        return Map.copyOf(assets);
    }

    private static String contentType(String file) {
        String ext = file.substring(file.lastIndexOf('.') + 1);
        return switch (ext) {
            case "html" -> "text/html; charset=utf-8";
            case "css" -> "text/css; charset=utf-8";
            case "js" -> "text/javascript; charset=utf-8";
            case "svg" -> "image/svg+xml";
            case "png" -> "image/png";
            default -> throw new IllegalStateException("no content type for dashboard file " + file);
        };
    }

    private static String etag(byte[] body) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(body);
            return "\"" + HexFormat.of().formatHex(hash, 0, 12) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always available", e);
        }
    }
}
