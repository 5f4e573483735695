package io.gatehouse.config;

import io.gatehouse.config.YamlNode.Mapping;
import io.gatehouse.config.YamlNode.Mark;
import io.gatehouse.config.YamlNode.Scalar;
import io.gatehouse.config.YamlNode.Sequence;
import io.netty.util.NetUtil;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Checks that span objects or need more than one record's view: references between routes and clusters, unique
 * names, colliding addresses, regexes, CIDRs. They run on the YAML tree rather than the bound records, so they still
 * report (each at its own key) when binding failed elsewhere in the file. Shapes binding rejects are skipped here.
 */
final class ConfigChecks {
    private final Problems problems;

    /** A listening address and where it was written, for collision checks. */
    private record Bound(HostPort address, String path, Mark mark, String what) {}

    ConfigChecks(Problems problems) {
        this.problems = problems;
    }

    void run(YamlNode root) {
        Mapping top = root instanceof Mapping m ? m : null;
        Map<String, Mark> clusters = clusters(top == null ? null : top.get("clusters"));
        YamlNode listeners = top == null ? null : top.get("listeners");
        if (!(listeners instanceof Sequence seq) || seq.items().isEmpty()) {
            if (listeners == null || listeners instanceof Sequence || (listeners instanceof Scalar s && s.isNull())) {
                Mark at = top != null && top.entries().containsKey("listeners") ? top.entries().get("listeners").keyMark()
                        : root == null ? Mark.UNKNOWN : root.mark();
                problems.add(at, "listeners", "nothing to serve: define at least one listener");
            }
            return;
        }
        List<Bound> bound = new ArrayList<>();
        Map<String, Mark> names = new LinkedHashMap<>();
        for (int i = 0; i < seq.items().size(); i++) {
            if (seq.items().get(i) instanceof Mapping listener) {
                listener(listener, Problems.index("listeners", i), names, clusters, bound);
            }
        }
        admin(top.get("admin"), bound);
    }

    private Map<String, Mark> clusters(YamlNode node) {
        Map<String, Mark> names = new LinkedHashMap<>();
        if (!(node instanceof Sequence seq)) return names;
        for (int i = 0; i < seq.items().size(); i++) {
            if (!(seq.items().get(i) instanceof Mapping cluster)) continue;
            String path = Problems.index("clusters", i);
            unique(cluster, path, names, "cluster name", "");
            if (cluster.get("endpoints") instanceof Sequence endpoints) {
                Map<String, Mark> seen = new LinkedHashMap<>();
                for (int j = 0; j < endpoints.items().size(); j++) {
                    YamlNode e = endpoints.items().get(j);
                    String epPath = Problems.index(path + ".endpoints", j);
                    if (e instanceof Mapping m) {
                        e = m.get("address");
                        epPath += ".address";
                    }
                    if (text(e) == null) continue;
                    try {
                        String canonical = HostPort.parse(text(e), false).toString();
                        Mark first = seen.putIfAbsent(canonical, e.mark());
                        if (first != null) {
                            problems.add(e.mark(), epPath, "duplicate endpoint " + canonical + " (first at " + where(first, e.mark()) + ")");
                        }
                    } catch (IllegalArgumentException ex) {
                        problems.add(e.mark(), epPath, ex.getMessage());
                    }
                }
            }
        }
        return names;
    }

    private void listener(Mapping listener, String path, Map<String, Mark> names, Map<String, Mark> clusters, List<Bound> bound) {
        unique(listener, path, names, "listener name", "");
        YamlNode address = listener.get("address");
        if (text(address) != null) {
            try {
                collides(new Bound(HostPort.parse(text(address), true), path + ".address", address.mark(), path), bound);
            } catch (IllegalArgumentException e) {
                problems.add(address.mark(), path + ".address", e.getMessage());
            }
        }
        if (listener.get("routes") instanceof Sequence routes) {
            Map<String, Mark> routeNames = new LinkedHashMap<>();
            for (int j = 0; j < routes.items().size(); j++) {
                if (routes.items().get(j) instanceof Mapping route) {
                    route(route, Problems.index(path + ".routes", j), routeNames, clusters);
                }
            }
        }
        if (listener.get("proxy_headers") instanceof Mapping ph && ph.get("trusted_proxies") instanceof Sequence cidrs) {
            for (int k = 0; k < cidrs.items().size(); k++) {
                YamlNode c = cidrs.items().get(k);
                if (text(c) == null) continue;
                String error = cidrError(text(c).strip());
                if (error != null) problems.add(c.mark(), Problems.index(path + ".proxy_headers.trusted_proxies", k), error);
            }
        }
    }

    private void route(Mapping route, String path, Map<String, Mark> names, Map<String, Mark> clusters) {
        unique(route, path, names, "route name", " in this listener");
        YamlNode cluster = route.get("cluster");
        String target = text(cluster);
        if (target != null && !clusters.containsKey(target)) {
            String near = ClosestMatch.among(target, clusters.keySet());
            String hint = clusters.isEmpty() ? "no clusters are defined"
                    : near != null ? "did you mean '" + near + "'?" : "defined clusters: " + String.join(", ", clusters.keySet());
            problems.add(cluster.mark(), path + ".cluster", "unknown cluster '" + target + "'; " + hint);
        }
        if (route.get("match") instanceof Mapping match) {
            regex(match.get("path_regex"), path + ".match.path_regex");
            if (match.get("headers") instanceof Sequence headers) {
                for (int k = 0; k < headers.items().size(); k++) {
                    if (headers.items().get(k) instanceof Mapping h) {
                        regex(h.get("regex"), Problems.index(path + ".match.headers", k) + ".regex");
                    }
                }
            }
        }
    }

    private void admin(YamlNode admin, List<Bound> bound) {
        YamlNode address = admin instanceof Mapping m ? m.get("address") : null;
        String text = text(address);
        if (text == null) {
            // The default admin address can collide with a listener too; say so where the listener is.
            HostPort def = HostPort.parse(AdminConfig.DEFAULT.address(), true);
            for (Bound b : bound) {
                if (collide(b.address(), def)) {
                    problems.add(b.mark(), b.path(), b.address() + " collides with the admin listener's default address "
                            + def + "; set admin.address (or admin.address: off)");
                }
            }
            return;
        }
        if (text.equals("off")) return;
        try {
            collides(new Bound(HostPort.parse(text, true), "admin.address", address.mark(), "the admin listener"), bound);
        } catch (IllegalArgumentException e) {
            problems.add(address.mark(), "admin.address", e.getMessage() + " (or 'off' to disable the admin listener)");
        }
    }

    private void collides(Bound b, List<Bound> bound) {
        for (Bound other : bound) {
            if (collide(b.address(), other.address())) {
                problems.add(b.mark(), b.path(), b.address() + " collides with " + other.address() + " of " + other.what()
                        + " (line " + other.mark().line() + ")");
                return;
            }
        }
        bound.add(b);
    }

    /** Two binds fail (EADDRINUSE) when ports match and the hosts overlap; a wildcard overlaps its family. */
    static boolean collide(HostPort a, HostPort b) {
        if (a.port() != b.port() || a.port() == 0) return false;
        if (sameHost(a, b)) return true;
        return covers(a, b) || covers(b, a);
    }

    private static boolean sameHost(HostPort a, HostPort b) {
        byte[] x = NetUtil.createByteArrayFromIpAddressString(a.host());
        byte[] y = NetUtil.createByteArrayFromIpAddressString(b.host());
        if (x != null && y != null) return java.util.Arrays.equals(x, y);
        return a.host().equalsIgnoreCase(b.host());
    }

    private static boolean covers(HostPort wildcard, HostPort other) {
        if (!wildcard.isWildcard()) return false;
        // [::] is dual-stack on Linux by default, so it takes the port on every address; 0.0.0.0 every IPv4 one.
        return wildcard.isIpv6() || !other.isIpv6();
    }

    private void unique(Mapping object, String path, Map<String, Mark> seen, String what, String where) {
        YamlNode name = object.get("name");
        String text = text(name);
        if (text == null) return;
        Mark first = seen.putIfAbsent(text, name.mark());
        if (first != null) {
            problems.add(name.mark(), path + ".name", "duplicate " + what + " '" + text + "'" + where + " (first at " + where(first, name.mark()) + ")");
        }
    }

    /** "line 5", or "column 18" when both are on one line (flow style). */
    private static String where(Mark first, Mark here) {
        return first.line() == here.line() ? "column " + first.column() : "line " + first.line();
    }

    private void regex(YamlNode node, String path) {
        String text = text(node);
        if (text == null) return;
        try {
            Pattern.compile(text);
        } catch (PatternSyntaxException e) {
            problems.add(node.mark(), path, "invalid regex: " + e.getDescription()
                    + (e.getIndex() >= 0 ? " near index " + e.getIndex() : ""));
        }
    }

    /** Null when {@code text} is an IP or a CIDR with no host bits set, else what is wrong with it. */
    /** For records' compact constructors: a bad CIDR is a {@code key: message} rule violation. */
    static void requireCidr(String key, String text) {
        String error = text == null ? "empty entry" : cidrError(text);
        if (error != null) throw new IllegalArgumentException(key + ": " + error);
    }

    static String cidrError(String text) {
        int slash = text.indexOf('/');
        String ip = slash < 0 ? text : text.substring(0, slash);
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(ip);
        if (bytes == null || ip.startsWith("[")) return "'" + text + "' is not a CIDR such as 10.0.0.0/8 or fd00::/8";
        if (slash < 0) return null;
        String prefix = text.substring(slash + 1);
        int bits = bytes.length * 8;
        if (!prefix.matches("\\d{1,3}") || Integer.parseInt(prefix) > bits) {
            return "'" + text + "' has an invalid prefix length; expected /0../" + bits;
        }
        int p = Integer.parseInt(prefix);
        byte[] network = bytes.clone();
        for (int i = 0; i < network.length; i++) {
            int keep = Math.max(0, Math.min(8, p - i * 8));
            network[i] &= (byte) (0xff << (8 - keep));
        }
        if (!java.util.Arrays.equals(network, bytes)) {
            return "'" + text + "' has host bits set; did you mean " + NetUtil.bytesToIpAddress(network) + "/" + p + "?";
        }
        return null;
    }

    private static String text(YamlNode node) {
        return node instanceof Scalar s && !s.isNull() ? s.text() : null;
    }
}
