package io.gatehouse.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.gatehouse.config.OidcConfig;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.filter.FilterContext;
import io.gatehouse.filter.NamedFilter;
import io.gatehouse.http.ForwardingResponseSink;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.DefaultCookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.netty.handler.codec.http.cookie.ServerCookieEncoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code oidc}: OpenID Connect login for browser routes (authorization code + PKCE S256, state and nonce), sessions in
 * an encrypted, authenticated cookie, refresh before the provider's tokens expire, and logout. Every call to the
 * provider (discovery, keys, token endpoint) is asynchronous with a timeout; the exchange waits (later), the event loop
 * does not. A request without a session is redirected to the provider when it is a browser's page load (GET or HEAD
 * accepting HTML), and answered 401 otherwise (an API call must not get a login page).
 */
public final class Oidc implements NamedFilter, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Oidc.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final long LOGIN_TTL_MILLIS = 10 * 60_000;
    private static final long REFRESH_BEFORE_MILLIS = 60_000;

    /** The provider's endpoints, from its discovery document. */
    private record Provider(String issuer, String authorize, String token, String endSession, JwksSource keys) {}

    private final OidcConfig config;
    private final SessionCookies cookies;
    private final IdentityHeaders identityHeaders;
    private final AuthFailures failures;
    private final io.gatehouse.clock.Clock clock;
    private final String loginCookie;
    private volatile CompletableFuture<Provider> provider;
    private final io.gatehouse.cluster.Cluster named;                  // the oidc's cluster, or null
    private final io.gatehouse.cluster.InternalClusters internal;
    /** Implicit clusters by scheme and authority of the provider's URLs; ours to close. */
    private final Map<String, io.gatehouse.cluster.Cluster> implicit = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile boolean closed;

    public Oidc(OidcConfig config, FilterContext context) {
        this.config = config;
        this.cookies = new SessionCookies(config.cookieSecret());
        this.identityHeaders = new IdentityHeaders(config.upstreamHeaders());
        this.failures = new AuthFailures(context.listener(), context.route(), "oidc", "Bearer", context.meters(), null);
        this.clock = context.clock();
        this.loginCookie = config.cookieName() + "_login";
        this.internal = context.internalClusters();
        if (config.cluster() != null) {
            named = context.clusters().get(config.cluster());
            if (named == null) {
                throw new IllegalArgumentException("cluster: no cluster named '" + config.cluster() + "' (clusters: "
                        + String.join(", ", new java.util.TreeSet<>(context.clusters().keySet())) + ")");
            }
        } else {
            named = null;
        }
        this.provider = discover();
    }

    @Override
    public String name() {
        return "oidc";
    }

    /** The discovery document, fetched again on the next request when it failed. */
    private CompletableFuture<Provider> discover() {
        String url = config.issuer().replaceAll("/+$", "") + "/.well-known/openid-configuration";
        return fetch(url, io.netty.handler.codec.http.HttpMethod.GET, Map.of(), null)
                .thenApplyAsync(r -> {
                    if (r.status() != 200) throw new IllegalStateException("discovery: HTTP " + r.status());
                    try {
                        JsonNode d = JSON.readTree(r.body());
                        String issuer = d.path("issuer").asText();
                        if (!issuer.replaceAll("/+$", "").equals(config.issuer().replaceAll("/+$", ""))) {
                            throw new IllegalStateException("discovery names issuer " + issuer + ", not " + config.issuer());
                        }
                        return new Provider(issuer, d.path("authorization_endpoint").asText(), d.path("token_endpoint").asText(),
                                d.hasNonNull("end_session_endpoint") ? d.get("end_session_endpoint").asText() : null,
                                new JwksSource(d.path("jwks_uri").asText(), Duration.ofMinutes(5), clock, named, internal));
                    } catch (java.io.IOException e) {
                        throw new IllegalStateException("discovery: not JSON");
                    }
                }, JwksSource.TIMER);
    }

    /**
     * One call to the provider through the upstream client: the named cluster's, or the implicit cluster of the
     * URL's host (made off the event loops, kept until close). Completes off the event loops' work: callers parse.
     */
    private CompletableFuture<io.gatehouse.cluster.UpstreamClient.Response> fetch(String url,
            io.netty.handler.codec.http.HttpMethod method, Map<String, String> headers, byte[] body) {
        CompletableFuture<io.gatehouse.cluster.Cluster> cluster;
        if (named != null) {
            cluster = CompletableFuture.completedFuture(named);
        } else {
            URI u = URI.create(url);
            String key = u.getScheme() + "://" + u.getRawAuthority();
            io.gatehouse.cluster.Cluster c = implicit.get(key);
            cluster = c != null ? CompletableFuture.completedFuture(c) : CompletableFuture.supplyAsync(() -> {
                if (closed) throw new IllegalStateException("closed");
                return implicit.computeIfAbsent(key, k -> internal.forUrl(url, TIMEOUT));
            }, JwksSource.TIMER);
        }
        Map<String, String> all = new HashMap<>(headers);
        all.put("host", io.gatehouse.cluster.InternalClusters.host(url));
        io.gatehouse.cluster.UpstreamClient.Request request = new io.gatehouse.cluster.UpstreamClient.Request(method,
                io.gatehouse.cluster.InternalClusters.target(url), all, body,
                io.gatehouse.cluster.UpstreamClient.Request.DEFAULT_MAX_RESPONSE_BYTES, TIMEOUT, null);
        return cluster.thenCompose(c -> c.client().send(request));
    }

    private CompletableFuture<Provider> provider() {
        CompletableFuture<Provider> p = provider;
        if (p.isCompletedExceptionally()) {
            p = discover();
            provider = p;
        }
        return p;
    }

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        identityHeaders.strip(exchange.request().headers());
        chain.later(exchange);
        provider().whenComplete((p, e) -> exchange.eventLoop().execute(() -> {
            if (exchange.completed() || exchange.clientGone()) return;
            if (e != null) {
                log.warn("oidc {}: provider unavailable: {}", config.issuer(), e.toString());
                failures.unavailable(exchange, "oidc_provider_unavailable", "the sign-in provider cannot be reached");
                return;
            }
            handle(exchange, chain, p);
        }));
    }

    private void handle(HttpExchange exchange, FilterChain chain, Provider p) {
        if (exchange.path().equals(config.redirectPath())) {
            callback(exchange, p);
            return;
        }
        Map<String, String> cookie = cookiesOf(exchange);
        if (exchange.path().equals(config.logoutPath())) {
            String target = p.endSession() != null ? p.endSession() + "?client_id=" + enc(config.clientId()) : "/";
            send(exchange, redirect(target), expired(config.cookieName(), exchange));
            return;
        }
        Map<String, Object> session = cookies.open(cookie.get(config.cookieName()));
        long now = clock.currentTimeMillis();
        if (session != null && now < num(session.get("exp"))) {
            long tokensExpire = num(session.get("at_exp"));
            Object refresh = session.get("rt");
            if (refresh instanceof String rt && tokensExpire - now < REFRESH_BEFORE_MILLIS) {
                refresh(exchange, chain, p, session, rt);
                return;
            }
            accept(exchange, chain, session, null);
            return;
        }
        startLogin(exchange, p);
    }

    /** Signed in: the identity from the session goes upstream; {@code setCookie} (a refreshed session) goes to the client. */
    private void accept(HttpExchange exchange, FilterChain chain, Map<String, Object> session, String setCookie) {
        Object groups = session.get("groups");
        Identity id = new Identity(null, String.valueOf(session.get("sub")), List.of(),
                groups instanceof List<?> l ? l.stream().map(String::valueOf).toList() : List.of(), "oidc",
                Map.of("email", String.valueOf(session.getOrDefault("email", ""))));
        exchange.attribute(Identity.KEY, id);
        identityHeaders.set(exchange.request().headers(), id);
        if (setCookie != null) {
            exchange.wrapResponse(next -> ForwardingResponseSink.finalHeaders(next, h -> h.add(HttpHeaderNames.SET_COOKIE, setCookie)));
        }
        chain.proceed(exchange);
    }

    private void startLogin(HttpExchange exchange, Provider p) {
        String accept = exchange.request().headers().get(HttpHeaderNames.ACCEPT, "");
        boolean page = (exchange.request().method().equals(HttpMethod.GET) || exchange.request().method().equals(HttpMethod.HEAD))
                && accept.contains("text/html");
        if (!page) {
            failures.unauthorized(exchange, "missing_session", "sign in first");
            return;
        }
        String state = random(24), nonce = random(24), verifier = random(48);
        Map<String, Object> login = new HashMap<>();
        login.put("state", state);
        login.put("nonce", nonce);
        login.put("verifier", verifier);
        login.put("return", exchange.query() == null ? exchange.path() : exchange.path() + "?" + exchange.query());
        login.put("exp", clock.currentTimeMillis() + LOGIN_TTL_MILLIS);
        String url = p.authorize() + (p.authorize().contains("?") ? "&" : "?")
                + "response_type=code&client_id=" + enc(config.clientId())
                + "&redirect_uri=" + enc(redirectUri(exchange))
                + "&scope=" + enc(String.join(" ", config.scopes()))
                + "&state=" + enc(state) + "&nonce=" + enc(nonce)
                + "&code_challenge=" + challenge(verifier) + "&code_challenge_method=S256";
        send(exchange, redirect(url), cookie(loginCookie, cookies.seal(login), exchange, LOGIN_TTL_MILLIS / 1000));
    }

    private void callback(HttpExchange exchange, Provider p) {
        Map<String, List<String>> q = new QueryStringDecoder("?" + (exchange.query() == null ? "" : exchange.query())).parameters();
        Map<String, Object> login = cookies.open(cookiesOf(exchange).get(loginCookie));
        String state = first(q, "state");
        if (login == null || state == null || !MessageDigest.isEqual(state.getBytes(StandardCharsets.UTF_8),
                String.valueOf(login.get("state")).getBytes(StandardCharsets.UTF_8)) || clock.currentTimeMillis() > num(login.get("exp"))) {
            failures.refuse(exchange, LocalResponse.problem(HttpResponseStatus.BAD_REQUEST, "oidc_bad_state",
                    "this sign-in is not the one started here, or it took too long; start again"), "oidc_bad_state");
            return;
        }
        if (first(q, "error") != null || first(q, "code") == null) {
            failures.refuse(exchange, LocalResponse.problem(HttpResponseStatus.FORBIDDEN, "oidc_denied",
                    "the provider did not sign you in"), "oidc_denied");
            return;
        }
        String form = "grant_type=authorization_code&code=" + enc(first(q, "code")) + "&redirect_uri=" + enc(redirectUri(exchange))
                + "&client_id=" + enc(config.clientId()) + (config.clientSecret() == null ? "" : "&client_secret=" + enc(config.clientSecret()))
                + "&code_verifier=" + enc(String.valueOf(login.get("verifier")));
        tokens(p, form).thenCompose(t -> verifyIdToken(p, t, String.valueOf(login.get("nonce"))).thenApply(claims -> Map.entry(t, claims)))
                .whenComplete((r, e) -> exchange.eventLoop().execute(() -> {
                    if (exchange.completed() || exchange.clientGone()) return;
                    if (e != null) {
                        Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
                        log.info("oidc {}: sign-in refused: {}", config.issuer(), cause.getMessage());
                        failures.refuse(exchange, LocalResponse.problem(HttpResponseStatus.FORBIDDEN, "oidc_token_rejected",
                                "the sign-in could not be verified"), "oidc_token_rejected");
                        return;
                    }
                    String session = cookies.seal(session(r.getKey(), r.getValue(), null));
                    send(exchange, redirect(String.valueOf(login.get("return"))),
                            cookie(config.cookieName(), session, exchange, config.sessionLifetime().toSeconds()),
                            expired(loginCookie, exchange));
                }));
    }

    private void refresh(HttpExchange exchange, FilterChain chain, Provider p, Map<String, Object> old, String refreshToken) {
        String form = "grant_type=refresh_token&refresh_token=" + enc(refreshToken) + "&client_id=" + enc(config.clientId())
                + (config.clientSecret() == null ? "" : "&client_secret=" + enc(config.clientSecret()));
        tokens(p, form).whenComplete((t, e) -> exchange.eventLoop().execute(() -> {
            if (exchange.completed() || exchange.clientGone()) return;
            long now = clock.currentTimeMillis();
            if (e != null) {
                // the provider is away or refused: the session holds as long as its tokens do
                if (now < num(old.get("at_exp"))) accept(exchange, chain, old, null);
                else startLogin(exchange, p);
                return;
            }
            Map<String, Object> renewed = session(t, null, old);
            accept(exchange, chain, renewed, cookie(config.cookieName(), cookies.seal(renewed), exchange,
                    Math.max(1, (num(renewed.get("exp")) - now) / 1000)));
        }));
    }

    /** The session's contents: who, until when, and how to refresh. Claims come from a new ID token or the old session. */
    private Map<String, Object> session(JsonNode tokens, JWTClaimsSet claims, Map<String, Object> old) {
        long now = clock.currentTimeMillis();
        Map<String, Object> s = new HashMap<>();
        if (claims != null) {
            s.put("sub", claims.getSubject());
            Object email = claims.getClaim("email");
            if (email != null) s.put("email", String.valueOf(email));
            Object groups = claims.getClaim("groups");
            if (groups instanceof List<?> g) s.put("groups", g.stream().map(String::valueOf).toList());
            s.put("exp", now + config.sessionLifetime().toMillis());
        } else {
            s.putAll(old);
        }
        long expiresIn = tokens.path("expires_in").asLong(300);
        s.put("at_exp", now + expiresIn * 1000);
        if (tokens.hasNonNull("refresh_token")) s.put("rt", tokens.get("refresh_token").asText());
        return s;
    }

    private CompletableFuture<JsonNode> tokens(Provider p, String form) {
        return fetch(p.token(), io.netty.handler.codec.http.HttpMethod.POST,
                Map.of("content-type", "application/x-www-form-urlencoded", "accept", "application/json"),
                form.getBytes(StandardCharsets.UTF_8))
                .thenApplyAsync(r -> {
                    if (r.status() != 200) throw new IllegalStateException("token endpoint: HTTP " + r.status());
                    try {
                        return JSON.readTree(r.body());
                    } catch (java.io.IOException e) {
                        throw new IllegalStateException("token endpoint: not JSON");
                    }
                }, JwksSource.TIMER);
    }

    /** The ID token: signed by the provider's key, for us, from the issuer, unexpired, with our nonce. */
    private CompletableFuture<JWTClaimsSet> verifyIdToken(Provider p, JsonNode tokens, String nonce) {
        String idToken = tokens.path("id_token").asText(null);
        if (idToken == null) return CompletableFuture.failedFuture(new IllegalStateException("no id_token"));
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(idToken);
        } catch (java.text.ParseException e) {
            return CompletableFuture.failedFuture(new IllegalStateException("a malformed id_token"));
        }
        String kid = jwt.getHeader().getKeyID();
        boolean known = p.keys().keys().stream().anyMatch(k -> kid == null || kid.equals(k.getKeyID()));
        CompletableFuture<List<JWK>> keys = known && p.keys().loaded() ? CompletableFuture.completedFuture(p.keys().keys())
                : (p.keys().loaded() ? p.keys().refreshForUnknownKey() : p.keys().firstLoad());
        return keys.thenApply(ks -> {
            try {
                if (!signedByOneOf(jwt, ks)) throw new IllegalStateException("id_token signature");
                JWTClaimsSet c = jwt.getJWTClaimsSet();
                long now = clock.currentTimeMillis();
                if (!p.issuer().equals(c.getIssuer())) throw new IllegalStateException("id_token issuer");
                if (c.getAudience() == null || !c.getAudience().contains(config.clientId())) throw new IllegalStateException("id_token audience");
                if (c.getExpirationTime() == null || now >= c.getExpirationTime().getTime() + 30_000) throw new IllegalStateException("id_token expired");
                if (!nonce.equals(c.getClaim("nonce"))) throw new IllegalStateException("id_token nonce");
                return c;
            } catch (java.text.ParseException e) {
                throw new IllegalStateException("id_token claims");
            }
        });
    }

    private static boolean signedByOneOf(SignedJWT jwt, List<JWK> keys) {
        JWSAlgorithm alg = jwt.getHeader().getAlgorithm();
        String kid = jwt.getHeader().getKeyID();
        for (JWK k : keys) {
            if (kid != null && !kid.equals(k.getKeyID())) continue;
            try {
                if (JWSAlgorithm.Family.RSA.contains(alg) && k instanceof RSAKey rsa && jwt.verify(new RSASSAVerifier(rsa))) return true;
                if (JWSAlgorithm.Family.EC.contains(alg) && k instanceof ECKey ec && jwt.verify(new ECDSAVerifier(ec))) return true;
            } catch (JOSEException e) {
                // not this key
            }
        }
        return false;
    }

    // ---- HTTP plumbing ----

    private String redirectUri(HttpExchange exchange) {
        String host = exchange.request().headers().get(HttpHeaderNames.HOST, exchange.host());
        return exchange.connection().scheme() + "://" + host + config.redirectPath();
    }

    private static FullHttpResponse redirect(String location) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.FOUND, Unpooled.EMPTY_BUFFER);
        r.headers().set(HttpHeaderNames.LOCATION, location);
        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        return r;
    }

    private static void send(HttpExchange exchange, FullHttpResponse r, String... setCookies) {
        for (String c : setCookies) r.headers().add(HttpHeaderNames.SET_COOKIE, c);
        LocalResponse.send(exchange, r);
    }

    private static String cookie(String name, String value, HttpExchange exchange, long maxAgeSeconds) {
        DefaultCookie c = new DefaultCookie(name, value);
        c.setHttpOnly(true);
        c.setSecure(exchange.connection().secure());
        c.setPath("/");
        c.setMaxAge(maxAgeSeconds);
        c.setSameSite(io.netty.handler.codec.http.cookie.CookieHeaderNames.SameSite.Lax);
        return ServerCookieEncoder.STRICT.encode(c);
    }

    private static String expired(String name, HttpExchange exchange) {
        return cookie(name, "", exchange, 0);
    }

    private static Map<String, String> cookiesOf(HttpExchange exchange) {
        Map<String, String> out = new HashMap<>();
        for (String header : exchange.request().headers().getAll(HttpHeaderNames.COOKIE)) {
            for (Cookie c : ServerCookieDecoder.LAX.decode(header)) out.putIfAbsent(c.name(), c.value());
        }
        return out;
    }

    private static String first(Map<String, List<String>> q, String name) {
        List<String> v = q.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    private static long num(Object o) {
        return o instanceof Number n ? n.longValue() : 0;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String random(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** PKCE S256 (RFC 7636): base64url(SHA-256(verifier)). */
    static String challenge(String verifier) {
        try {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(
                    MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        closed = true;
        CompletableFuture<Provider> p = provider;
        if (p.isDone() && !p.isCompletedExceptionally()) p.join().keys().close();
        implicit.values().forEach(io.gatehouse.cluster.Cluster::close);
        implicit.clear();
    }
}
