package io.gatehouse.app.links;

import io.gatehouse.app.http.ProblemException;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a link may point to and what an alias may be. A shortener that redirects into loopback, private or
 * link-local space is an open redirect into the visitor's intranet (router admin pages, cloud metadata at
 * 169.254.169.254), and one that redirects to itself can loop; both are refused at creation.
 *
 * <p>Host names are checked by name, not resolved: resolving proves nothing (DNS can change after the check), and
 * the visitor's browser, not this server, follows the redirect. IP literals in every spelling the URL parser of a
 * browser accepts (decimal, hex, short dotted forms) are decoded and checked by range.
 */
public final class TargetPolicy {
    public static final int MAX_TARGET_LENGTH = 2048;
    private static final Pattern ALIAS = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{2,31}");
    /** Paths the system serves itself, and words that would confuse people if they were someone's link. */
    private static final Set<String> RESERVED = Set.of(
            "api", "live", "ready", "metrics", "health", "admin", "dashboard", "login", "logout", "signup",
            "session", "sessions", "users", "user", "links", "link", "static", "assets", "favicon.ico",
            "robots.txt", "well-known", "www", "help", "about", "gatehouse");
    private static final Set<String> LOCAL_SUFFIXES = Set.of(".localhost", ".local", ".internal", ".lan", ".home.arpa");

    private final Set<String> ownHosts;

    /** @param ownHosts the host names the system answers on (lower case); links to them are refused */
    public TargetPolicy(Set<String> ownHosts) {
        this.ownHosts = ownHosts.stream().map(h -> h.toLowerCase(Locale.ROOT)).collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    /** Returns the target normalised (scheme and host lower case) or throws a 400 problem naming the rule. */
    public String checkTarget(String target) {
        if (target == null || target.isBlank()) throw invalid("'target' is required");
        if (target.length() > MAX_TARGET_LENGTH) throw invalid("'target' is longer than " + MAX_TARGET_LENGTH + " characters");
        URI uri;
        try {
            uri = new URI(target);
        } catch (URISyntaxException e) {
            throw invalid("'target' is not a valid URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) throw invalid("only http and https targets are allowed");
        if (uri.getRawUserInfo() != null) throw invalid("credentials in the target are not allowed");
        String host = uri.getHost();
        if (host == null || host.isEmpty()) throw invalid("the target has no host");
        host = host.toLowerCase(Locale.ROOT);
        if (host.endsWith(".")) host = host.substring(0, host.length() - 1);
        if (ownHosts.contains(host)) throw invalid("links to this service itself are not allowed");
        if (host.equals("localhost") || LOCAL_SUFFIXES.stream().anyMatch(host::endsWith) || !host.contains(".") && !host.startsWith("[")
                && !isNumericHost(host)) {
            throw invalid("the target host is a local name");
        }
        InetAddress literal = ipLiteral(host);
        if (literal != null && !isPublic(literal)) {
            throw invalid("the target is in a loopback, private, link-local or reserved range");
        }
        return scheme + target.substring(scheme.length());
    }

    public String checkAlias(String alias) {
        if (!ALIAS.matcher(alias).matches()) {
            throw ProblemException.badRequest("invalid-alias",
                    "an alias is 3-32 characters of A-Z, a-z, 0-9, '_' and '-', starting with a letter or digit");
        }
        if (RESERVED.contains(alias.toLowerCase(Locale.ROOT))) {
            throw ProblemException.badRequest("reserved-alias", "'" + alias + "' is reserved");
        }
        return alias;
    }

    private static ProblemException invalid(String detail) {
        return ProblemException.badRequest("invalid-target", detail);
    }

    private static boolean isNumericHost(String host) {
        return host.chars().allMatch(c -> Character.isDigit(c) || c == '.' || c == 'x' || (c >= 'a' && c <= 'f'))
                && Character.isDigit(host.charAt(0));
    }

    /** The address an IP-literal host denotes (as a browser would parse it), or null for a name. */
    static InetAddress ipLiteral(String host) {
        try {
            if (host.startsWith("[") && host.endsWith("]")) return InetAddress.getByName(host.substring(1, host.length() - 1));
            if (!isNumericHost(host)) return null;
            // WHATWG IPv4 parsing: 1-4 parts, each decimal, 0x-hex or 0-octal; the last part fills the rest.
            String[] parts = host.split("\\.", -1);
            if (parts.length > 4) return null;
            long[] values = new long[parts.length];
            for (int i = 0; i < parts.length; i++) {
                String p = parts[i];
                if (p.isEmpty()) return null;
                int radix = 10;
                if (p.startsWith("0x")) { radix = 16; p = p.substring(2); }
                else if (p.length() > 1 && p.startsWith("0")) { radix = 8; p = p.substring(1); }
                values[i] = p.isEmpty() ? 0 : Long.parseLong(p, radix);
            }
            long ip = 0;
            for (int i = 0; i < values.length - 1; i++) {
                if (values[i] > 255) return null;
                ip |= values[i] << (8 * (3 - i));
            }
            long last = values[values.length - 1];
            if (last >= 1L << (8 * (5 - values.length))) return null;
            ip |= last;
            return InetAddress.getByAddress(new byte[]{(byte) (ip >>> 24), (byte) (ip >>> 16), (byte) (ip >>> 8), (byte) ip});
        } catch (NumberFormatException | UnknownHostException e) {
            return null;
        }
    }

    static boolean isPublic(InetAddress a) {
        if (a.isLoopbackAddress() || a.isAnyLocalAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress()
                || a.isMulticastAddress()) {
            return false;
        }
        byte[] b = a.getAddress();
        if (b.length == 4) {
            int first = b[0] & 0xff, second = b[1] & 0xff;
            return first != 0 && !(first == 100 && second >= 64 && second <= 127) // carrier-grade NAT
                    && !(first == 192 && second == 0 && (b[2] & 0xff) == 0)     // IETF protocol assignments
                    && !(first == 198 && (second == 18 || second == 19))        // benchmarking
                    && first < 240;                                             // reserved and broadcast
        }
        if ((b[0] & 0xfe) == 0xfc) return false; // IPv6 unique local fc00::/7
        boolean mapped = true; // ::ffff:a.b.c.d hides an IPv4 address
        for (int i = 0; i < 10; i++) mapped &= b[i] == 0;
        if (mapped && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
            try {
                return isPublic(InetAddress.getByAddress(java.util.Arrays.copyOfRange(b, 12, 16)));
            } catch (UnknownHostException e) {
                return false;
            }
        }
        return true;
    }
}
