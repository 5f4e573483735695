package io.gatehouse.admin;

import io.netty.handler.codec.http.FullHttpResponse;

/**
 * The dashboard's bundled files. Placeholder from the admin branch so the routing compiles: it serves nothing
 * (every dashboard path is a 404) until the dashboard branch replaces this file with the real one.
 */
public final class DashboardAssets {
    private DashboardAssets() {}

    /** The response for {@code path} under {@code /dashboard/}, or null when there is no such file. */
    public static FullHttpResponse serve(String path) {
        return null;
    }
}
