package io.gatehouse.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.nimbusds.jose.Algorithm;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.gatehouse.config.ConsumerConfig;
import io.gatehouse.config.JwtAuthConfig;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.filter.FilterContext;
import io.gatehouse.filter.NamedFilter;
import io.gatehouse.http.HttpExchange;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;

/**
 * {@code jwt}: a bearer token signed by a key we trust, checked as RFC 7519 and RFC 8725 (JWT best practices) say.
 * Refused, each with its own reason: a malformed token; {@code alg: none}; an algorithm not allowed; a header that
 * points at keys of the token's choosing ({@code jku}, {@code x5u}, {@code jwk}, {@code x5c}); a {@code crit} header;
 * an unknown key; a key whose type does not fit the algorithm (an RSA key is never an HMAC secret); a bad signature;
 * no {@code exp} (unless allowed), expired, not yet valid, issued in the future; the wrong issuer or audience; a
 * disabled consumer (403).
 *
 * <p>A verified token is cached (bounded; keyed by the first 128 bits of its SHA-256, so no token is kept; never past
 * its {@code exp}): a repeated token costs a hash and a lookup instead of a signature check.
 */
public final class JwtAuth implements NamedFilter, AutoCloseable {
    private static final String BEARER = "bearer ";

    private final JwtAuthConfig config;
    private final Set<String> algorithms;
    private final List<TrustedKey> keys;     // from files and inline
    private final JwksSource jwks;           // the issuer's endpoint, or null
    private final MACVerifier mac;           // the configured HMAC secret, or null
    private final long skewMillis;
    private final AsciiString header;
    private final ConsumerDirectory consumers;
    private final IdentityHeaders identityHeaders;
    private final AuthFailures failures;
    private final io.gatehouse.clock.Clock clock;
    private final Cache<TokenKey, Verified> verified;   // null when cache_size is 0
    /**
     * The headers of tokens whose signature held, by their text. An issuer puts the same few headers on every token
     * (alg, kid, typ), so a new token's header is nearly always one parsed before: its base64url and JSON are then
     * skipped. Only verified tokens' headers go in, so a client cannot fill it; a rotated key adds one.
     */
    private final Cache<String, JWSHeader> verifiedHeaders = Caffeine.newBuilder().maximumSize(64).build();

    private record TokenKey(long high, long low) {}

    /** A verified token: who it names, until when, and the identity headers it sends upstream (made once). */
    private record Verified(Identity identity, long expiresMillis, IdentityHeaders.Values headers) {}

    /** A refusal: its reason (logged, counted) and what the client is told. */
    private record Refusal(boolean forbidden, String reason, String detail) {}

    public JwtAuth(JwtAuthConfig config, FilterContext context) {
        this.config = config;
        this.algorithms = Set.copyOf(config.algorithms());
        this.keys = TrustedKey.of(loadKeys(config));
        io.gatehouse.cluster.Cluster named = null;
        if (config.jwksCluster() != null) {
            named = context.clusters().get(config.jwksCluster());
            if (named == null) {
                throw new IllegalArgumentException("jwks_cluster: no cluster named '" + config.jwksCluster() + "'"
                        + " (clusters: " + String.join(", ", new java.util.TreeSet<>(context.clusters().keySet())) + ")");
            }
        }
        this.jwks = config.jwksUrl() == null ? null : new JwksSource(config.jwksUrl(), config.jwksRefresh(),
                context.clock(), named, context.internalClusters());
        this.mac = macVerifier(config.secret());
        // load the RSA provider (a native library, extracted to a file) now, at config time, not on an event loop
        // with the first token
        if (algorithms.stream().anyMatch(a -> a.startsWith("RS"))) RsaSignatures.provider();
        this.skewMillis = config.clockSkew().toMillis();
        this.header = AsciiString.of(config.header());
        this.consumers = ConsumerDirectory.of(context);
        this.identityHeaders = new IdentityHeaders(config.upstreamHeaders());
        this.failures = new AuthFailures(context.listener(), context.route(), "jwt", "Bearer", context.meters());
        this.clock = context.clock();
        this.verified = config.cacheSize() == 0 ? null : Caffeine.newBuilder()
                .maximumSize(config.cacheSize())
                .ticker(clock::nanoTime)
                .expireAfter(new Expiry<TokenKey, Verified>() {
                    @Override
                    public long expireAfterCreate(TokenKey k, Verified v, long now) {
                        long left = v.expiresMillis() - clock.currentTimeMillis();
                        return java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(Math.max(0, Math.min(left, 3_600_000)));
                    }

                    @Override
                    public long expireAfterUpdate(TokenKey k, Verified v, long now, long current) {
                        return current;
                    }

                    @Override
                    public long expireAfterRead(TokenKey k, Verified v, long now, long current) {
                        return current;
                    }
                })
                .build();
    }

    private static MACVerifier macVerifier(String secret) {
        if (secret == null) return null;
        try {
            return new MACVerifier(secret.getBytes(StandardCharsets.UTF_8));
        } catch (JOSEException e) {
            throw new IllegalArgumentException("jwt: secret: " + e.getMessage(), e);
        }
    }

    /**
     * A trusted key made ready once, not per token: its RSA public key decoded from the JWK, and (made on first use)
     * the nimbus verifier for the algorithms nimbus checks (PS*, ES*). Nimbus verifiers are thread-safe.
     */
    private static final class TrustedKey {
        final JWK jwk;
        final java.security.interfaces.RSAPublicKey rsa;   // null unless an RSA key
        private volatile JWSVerifier verifier;

        private TrustedKey(JWK jwk) {
            this.jwk = jwk;
            java.security.interfaces.RSAPublicKey r = null;
            if (jwk instanceof RSAKey k) {
                try {
                    r = k.toRSAPublicKey();
                } catch (JOSEException e) {
                    r = null;   // not a usable RSA key: it verifies nothing
                }
            }
            this.rsa = r;
        }

        static List<TrustedKey> of(List<JWK> jwks) {
            return jwks.stream().map(TrustedKey::new).toList();
        }

        /** The nimbus verifier for this key (RSASSA for PS*, ECDSA), made once. */
        JWSVerifier verifier() throws JOSEException {
            JWSVerifier v = verifier;
            if (v == null) {
                v = jwk instanceof ECKey ec ? new ECDSAVerifier(ec) : new RSASSAVerifier(rsa);
                verifier = v;
            }
            return v;
        }
    }

    private static List<JWK> loadKeys(JwtAuthConfig config) {
        List<JWK> out = new ArrayList<>();
        try {
            if (config.jwksFile() != null) out.addAll(JWKSet.parse(Files.readString(Path.of(config.jwksFile()))).getKeys());
            if (config.jwks() != null) out.addAll(JWKSet.parse(config.jwks()).getKeys());
            if (config.publicKeyFile() != null) out.add(pem(Path.of(config.publicKeyFile())));
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("jwt: cannot read a key file: " + e.getMessage(), e);
        } catch (java.text.ParseException e) {
            throw new IllegalArgumentException("jwt: not a JWKS document: " + e.getMessage(), e);
        }
        // only public halves are ever used, whatever the file holds
        return out.stream().map(JWK::toPublicJWK).filter(java.util.Objects::nonNull).toList();
    }

    /** A public key (or a certificate's) from PEM: {@code PUBLIC KEY} (RSA, EC, Ed25519), {@code RSA PUBLIC KEY}, {@code CERTIFICATE}. */
    private static JWK pem(Path file) throws java.io.IOException {
        String text = Files.readString(file);
        try {
            if (text.contains("BEGIN CERTIFICATE")) {
                var cert = (java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                        .generateCertificate(new java.io.ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII)));
                return fromPublicKey(cert.getPublicKey());
            }
            try (var parser = new org.bouncycastle.openssl.PEMParser(new java.io.StringReader(text))) {
                Object o = parser.readObject();
                if (o instanceof org.bouncycastle.asn1.x509.SubjectPublicKeyInfo info) {
                    return fromPublicKey(new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter().getPublicKey(info));
                }
                if (o instanceof org.bouncycastle.asn1.pkcs.RSAPublicKey rsa) {
                    return new RSAKey.Builder((java.security.interfaces.RSAPublicKey) java.security.KeyFactory.getInstance("RSA")
                            .generatePublic(new java.security.spec.RSAPublicKeySpec(rsa.getModulus(), rsa.getPublicExponent()))).build();
                }
            }
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalArgumentException("jwt: " + file + ": " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("jwt: " + file + " holds no PEM public key or certificate");
    }

    private static JWK fromPublicKey(java.security.PublicKey key) {
        if (key instanceof java.security.interfaces.RSAPublicKey rsa) return new RSAKey.Builder(rsa).build();
        if (key instanceof java.security.interfaces.ECPublicKey ecKey) {
            return new ECKey.Builder(com.nimbusds.jose.jwk.Curve.forECParameterSpec(ecKey.getParams()), ecKey).build();
        }
        if (key instanceof java.security.interfaces.EdECPublicKey ed) {
            return new OctetKeyPair.Builder(com.nimbusds.jose.jwk.Curve.Ed25519, com.nimbusds.jose.util.Base64URL.encode(EdDsa.raw(ed))).build();
        }
        throw new IllegalArgumentException("jwt: unsupported public key type " + key.getAlgorithm());
    }

    @Override
    public String name() {
        return "jwt";
    }

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        var h = exchange.request().headers();
        identityHeaders.strip(h);
        String value = h.get(header);
        String token = value == null ? null : header.contentEqualsIgnoreCase("authorization")
                ? (value.regionMatches(true, 0, BEARER, 0, BEARER.length()) ? value.substring(BEARER.length()).strip() : null)
                : value.strip();
        if (token == null || token.isEmpty()) {
            failures.unauthorized(exchange, "missing_credentials", "a bearer token is required");
            return;
        }
        long now = clock.currentTimeMillis();
        TokenKey key = verified == null ? null : keyOf(token);
        Verified hit = key == null ? null : verified.getIfPresent(key);
        if (hit != null && now < hit.expiresMillis() + skewMillis) {
            Identity id = hit.identity();
            if (!consumers.live() || id.consumer() == null) {
                accept(exchange, chain, id, hit.headers());
                return;
            }
            // runtime consumers change without a reload: a cached token sees a disable or new groups at once
            ConsumerConfig c = consumers.byName(id.consumer());
            if (c != null && c.disabled()) {
                failures.forbidden(exchange, "consumer_disabled", "this consumer is disabled");
                return;
            }
            if (c == null ? id.knownConsumer() : !id.knownConsumer() || !c.groups().equals(id.groups())) {
                id = new Identity(id.consumer(), id.subject(), id.scopes(), c == null ? List.of() : c.groups(), id.method(),
                        id.claims(), c != null);
                accept(exchange, chain, id);
                return;
            }
            accept(exchange, chain, id, hit.headers());
            return;
        }
        // read before the keys: a first fetch that completes between the two is then waited for, not re-fetched
        boolean loaded = jwks == null || jwks.loaded();
        Object result = verify(token, now, keys());
        if (jwks != null && result instanceof Refusal r && (r.reason().equals("unknown_key")
                || (!loaded && r.reason().equals("bad_signature")))) {
            // a key we may not have yet: the issuer rotated, or its first fetch is under way. Wait for the
            // fetch (bounded by its timeout), then decide; known keys never wait here.
            chain.later(exchange);
            (loaded ? jwks.refreshForUnknownKey() : jwks.firstLoad()).whenComplete((k, e) ->
                    exchange.eventLoop().execute(() -> {
                        if (exchange.completed() || exchange.clientGone()) return;
                        decide(exchange, chain, key, verify(token, clock.currentTimeMillis(), keys()));
                    }));
            return;
        }
        decide(exchange, chain, key, result);
    }

    /** Answers a refusal, or caches and accepts a verified token. */
    private void decide(HttpExchange exchange, FilterChain chain, TokenKey key, Object result) {
        if (result instanceof Refusal r) {
            if (r.forbidden()) failures.forbidden(exchange, r.reason(), r.detail());
            else failures.unauthorized(exchange, r.reason(), r.detail());
            return;
        }
        Verified v = (Verified) result;
        Verified withHeaders = new Verified(v.identity(), v.expiresMillis(), identityHeaders.prepare(v.identity()));
        if (key != null && v.expiresMillis() != Long.MAX_VALUE) verified.put(key, withHeaders);
        accept(exchange, chain, withHeaders.identity(), withHeaders.headers());
    }

    private void accept(HttpExchange exchange, FilterChain chain, Identity id) {
        accept(exchange, chain, id, identityHeaders.prepare(id));
    }

    private void accept(HttpExchange exchange, FilterChain chain, Identity id, IdentityHeaders.Values headers) {
        exchange.attribute(Identity.KEY, id);
        identityHeaders.set(exchange.request().headers(), headers);
        chain.proceed(exchange);
    }

    /** Every key we trust now: configured ones, then the issuer's as last fetched (made ready once per fetch). */
    private List<TrustedKey> keys() {
        if (jwks == null) return keys;
        List<JWK> fetched = jwks.keys();
        Prepared p = prepared;
        if (p == null || p.fetched != fetched) {
            List<TrustedKey> all = new ArrayList<>(keys);
            all.addAll(TrustedKey.of(fetched));
            p = new Prepared(fetched, List.copyOf(all));
            prepared = p;   // racing threads may each prepare the same list once: harmless
        }
        return p.keys;
    }

    private record Prepared(List<JWK> fetched, List<TrustedKey> keys) {}

    private volatile Prepared prepared;

    @Override
    public void close() {
        if (jwks != null) jwks.close();
    }

    /** One digest per thread: looking the algorithm up costs more than hashing a token. */
    private static final io.netty.util.concurrent.FastThreadLocal<MessageDigest> SHA256 = new io.netty.util.concurrent.FastThreadLocal<>() {
        @Override
        protected MessageDigest initialValue() throws java.security.NoSuchAlgorithmException {
            return MessageDigest.getInstance("SHA-256");
        }
    };

    private static TokenKey keyOf(String token) {
        byte[] d = SHA256.get().digest(token.getBytes(StandardCharsets.US_ASCII));   // digest() resets it for the next use
        return new TokenKey(java.nio.ByteBuffer.wrap(d, 0, 8).getLong(), java.nio.ByteBuffer.wrap(d, 8, 8).getLong());
    }

    /**
     * A compact JWS split at its two dots, its header and signature decoded; the payload is decoded only after the
     * signature holds. Base64url is the JDK's decoder, not nimbus's: nimbus's is constant-time (for keys and
     * secrets; a token's parts are neither) and cost 4.2 of a new token's 65 µs in the gateway benchmark's profile
     * (2.5 µs for the signature alone in {@code JwtNewTokenStagesBenchmark}). The JDK's is also stricter: it refuses
     * whitespace and characters outside the alphabet that nimbus skips. JSON stays nimbus's (it refuses duplicate
     * keys), and so do the header and claims.
     *
     * @param ascii the token's bytes: the signing input is its first {@code dot2} (every byte is checked as base64url)
     * @param headerKnown whether the header came from {@code verifiedHeaders}
     */
    private record Compact(String token, byte[] ascii, int dot1, int dot2, JWSHeader header, boolean headerKnown, byte[] signature) {
        private static final java.util.Base64.Decoder BASE64URL = java.util.Base64.getUrlDecoder();

        /**
         * The parsed token, or null when it is not a compact JWS with a JWS header (the caller then says why).
         * {@code known} holds headers already parsed, by their text (the header of a token {@code known} had is
         * not checked as base64url again: its text is one that was).
         */
        static Compact parse(String token, Cache<String, JWSHeader> known) {
            int dot1 = token.indexOf('.');
            int dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
            if (dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0) return null;
            byte[] ascii = token.getBytes(StandardCharsets.ISO_8859_1);   // anything beyond ASCII fails the decoding below
            try {
                String text = token.substring(0, dot1);
                JWSHeader header = known.getIfPresent(text);
                boolean headerKnown = header != null;
                if (!headerKnown) {
                    header = JWSHeader.parse(new String(decode(ascii, 0, dot1), StandardCharsets.UTF_8),
                            new com.nimbusds.jose.util.Base64URL(text));
                }
                byte[] signature = decode(ascii, dot2 + 1, ascii.length);
                if (signature.length == 0) return null;
                return new Compact(token, ascii, dot1, dot2, header, headerKnown, signature);
            } catch (java.text.ParseException | IllegalArgumentException e) {
                return null;
            }
        }

        /**
         * RFC 7515's base64url: no padding, and the one canonical spelling of each value (unused low bits of the last
         * character zero), so a signed token has exactly one text.
         */
        static byte[] decode(byte[] ascii, int from, int to) {
            int n = to - from;
            if (n > 0) {
                int last = ascii[to - 1];
                int unused = n % 4 == 2 ? 0xf : n % 4 == 3 ? 0x3 : 0;
                if (last == '=' || (unused != 0 && (sextet(last) & unused) != 0)) {
                    throw new IllegalArgumentException("not canonical base64url");
                }
            }
            return BASE64URL.decode(java.util.Arrays.copyOfRange(ascii, from, to));
        }

        private static int sextet(int c) {
            if (c >= 'A' && c <= 'Z') return c - 'A';
            if (c >= 'a' && c <= 'z') return c - 'a' + 26;
            if (c >= '0' && c <= '9') return c - '0' + 52;
            return c == '-' ? 62 : c == '_' ? 63 : -1;   // -1: the decoder refuses it
        }

        byte[] signingInput() {
            return java.util.Arrays.copyOf(ascii, dot2);
        }

        com.nimbusds.jose.util.Base64URL signatureText() {
            return new com.nimbusds.jose.util.Base64URL(token.substring(dot2 + 1));
        }

        JWTClaimsSet claims() throws java.text.ParseException {
            try {
                return JWTClaimsSet.parse(new String(decode(ascii, dot1 + 1, dot2), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new java.text.ParseException("the payload is not base64url", 0);
            }
        }
    }

    /** A {@link Verified} or a {@link Refusal}. */
    private Object verify(String token, long now, List<TrustedKey> keys) {
        Compact jws = Compact.parse(token, verifiedHeaders);
        if (jws == null) return notSigned(token);
        JWSHeader head = jws.header();
        if (head.getJWKURL() != null || head.getX509CertURL() != null || head.getJWK() != null || head.getX509CertChain() != null) {
            return refuse("untrusted_key_reference", "the token may not name its own keys (jku, x5u, jwk, x5c)");
        }
        if (head.getCriticalParams() != null && !head.getCriticalParams().isEmpty()) {
            return refuse("unsupported_crit", "the token has critical header parameters this gateway does not understand");
        }
        // RFC 7797's unencoded payload is only meant with crit (refused above); without it, refuse it too rather
        // than read the payload in a way its signer did not mean
        if (!head.isBase64URLEncodePayload()) return refuse("malformed_token", "the token's payload is not base64url (b64: false)");
        JWSAlgorithm alg = head.getAlgorithm();
        if (mac == null && !keys.isEmpty() && JWSAlgorithm.Family.HMAC_SHA.contains(alg)) {
            // HMAC where only public keys are trusted: the classic confusion, told apart from a mere wrong algorithm
            return refuse("algorithm_confusion", "public keys are never HMAC secrets");
        }
        if (!algorithms.contains(alg.getName())) return refuse("algorithm_not_allowed", "tokens signed with " + alg.getName() + " are not accepted");
        Object checked = checkSignature(jws, alg, head.getKeyID(), keys);
        if (checked instanceof Refusal r) return r;
        if (!jws.headerKnown()) verifiedHeaders.put(head.getParsedBase64URL().toString(), head);
        JWTClaimsSet claims;
        try {
            claims = jws.claims();
        } catch (java.text.ParseException e) {
            return refuse("malformed_token", "the token's claims are not a JSON object");
        }
        return checkClaims(claims, now);
    }

    /** Why a token that is not a well-formed signed JWT is refused (the rare path: parsed again to tell). */
    private static Refusal notSigned(String token) {
        JWT jwt;
        try {
            jwt = JWTParser.parse(token);
        } catch (java.text.ParseException e) {
            return refuse("malformed_token", "the token is not a well-formed JWT");
        }
        if (jwt instanceof PlainJWT || Algorithm.NONE.equals(jwt.getHeader().getAlgorithm())) {
            return refuse("alg_none", "unsigned tokens are not accepted");
        }
        if (!(jwt instanceof SignedJWT)) return refuse("unsupported_token", "encrypted tokens are not accepted");
        return refuse("malformed_token", "the token is not a well-formed JWT");
    }

    private Object checkSignature(Compact jwt, JWSAlgorithm alg, String kid, List<TrustedKey> keys) {
        try {
            if (JWSAlgorithm.Family.HMAC_SHA.contains(alg)) {
                // only the configured secret: never a public key's bytes (algorithm confusion)
                if (kid != null && namesPublicKey(kid, keys)) {
                    return refuse("algorithm_confusion", "the key " + safe(kid) + " is a public key, never an HMAC secret");
                }
                if (mac != null && mac.verify(jwt.header(), jwt.signingInput(), jwt.signatureText())) return null;
                if (keyedWithAPublicKey(jwt, keys)) return refuse("algorithm_confusion", "public keys are never HMAC secrets");
                return mac == null ? refuse("algorithm_key_mismatch", "no secret for " + alg.getName())
                        : refuse("bad_signature", "the signature does not match");
            }
            boolean kidMatched = false;
            for (TrustedKey t : keys) {
                JWK k = t.jwk;
                if (kid != null && !kid.equals(k.getKeyID())) continue;
                kidMatched = true;
                if (k.getKeyUse() != null && !KeyUse.SIGNATURE.equals(k.getKeyUse())) continue;
                if (k.getAlgorithm() != null && !k.getAlgorithm().equals(alg)) continue;
                Boolean ok = verifyWith(jwt, alg, t);
                if (ok == null) continue;   // the key's type does not fit the algorithm
                if (ok) return null;
                if (kid != null) return refuse("bad_signature", "the signature does not match");
            }
            if (kid != null && !kidMatched) return refuse("unknown_key", "no trusted key has id " + safe(kid));
            return refuse(kidMatched && kid != null ? "algorithm_key_mismatch" : "bad_signature",
                    kidMatched && kid != null ? "the key " + safe(kid) + " is not for " + alg.getName() : "the signature does not match");
        } catch (JOSEException e) {
            return refuse("bad_signature", "the signature cannot be verified");
        }
    }

    private static boolean namesPublicKey(String kid, List<TrustedKey> keys) {
        for (TrustedKey t : keys) if (kid.equals(t.jwk.getKeyID()) && t.jwk instanceof com.nimbusds.jose.jwk.AsymmetricJWK) return true;
        return false;
    }

    /**
     * Whether an HMAC token that failed was keyed with the bytes of one of our public keys (its PEM, as attack tools
     * use it, or its DER): only on this refusal path, so it costs nothing to valid tokens.
     */
    private static boolean keyedWithAPublicKey(Compact jwt, List<TrustedKey> keys) {
        for (TrustedKey t : keys) {
            if (!(t.jwk instanceof com.nimbusds.jose.jwk.AsymmetricJWK a)) continue;
            byte[] der;
            try {
                der = a.toPublicKey().getEncoded();
            } catch (JOSEException | RuntimeException e) {
                continue;   // a key type the JDK cannot encode (Ed25519 JWKs): not an RSA/EC confusion anyway
            }
            String b64 = java.util.Base64.getEncoder().encodeToString(der);
            String mime = java.util.Base64.getMimeEncoder().encodeToString(der);
            String lines64 = b64.replaceAll("(.{64})", "$1\n").strip();
            List<byte[]> candidates = new java.util.ArrayList<>(List.of(der));
            for (String body : List.of(mime, lines64)) {
                String pem = "-----BEGIN PUBLIC KEY-----\n" + body + "\n-----END PUBLIC KEY-----";
                candidates.add(pem.getBytes(StandardCharsets.US_ASCII));
                candidates.add((pem + "\n").getBytes(StandardCharsets.US_ASCII));
            }
            for (byte[] secret : candidates) {
                try {
                    if (new MACVerifier(secret).verify(jwt.header(), jwt.signingInput(), jwt.signatureText())) return true;
                } catch (JOSEException e) {
                    // too short for the algorithm: not this encoding
                }
            }
        }
        return false;
    }

    /** True/false: verified or not with {@code k}; null: {@code k} is not a key for {@code alg}. */
    private static Boolean verifyWith(Compact jwt, JWSAlgorithm alg, TrustedKey t) throws JOSEException {
        JWK k = t.jwk;
        if (JWSAlgorithm.Family.RSA.contains(alg)) {
            if (t.rsa == null) return null;
            if (RsaSignatures.handles(alg)) {
                return RsaSignatures.verify(alg, t.rsa, jwt.ascii(), jwt.dot2(), jwt.signature());
            }
            return t.verifier().verify(jwt.header(), jwt.signingInput(), jwt.signatureText());
        }
        if (JWSAlgorithm.Family.EC.contains(alg)) {
            if (!(k instanceof ECKey ec) || !ECDSAVerifier.SUPPORTED_ALGORITHMS.contains(alg)) return null;
            if (!com.nimbusds.jose.jwk.Curve.forJWSAlgorithm(alg).contains(ec.getCurve())) return null;
            return t.verifier().verify(jwt.header(), jwt.signingInput(), jwt.signatureText());
        }
        if (JWSAlgorithm.EdDSA.equals(alg) || JWSAlgorithm.Ed25519.equals(alg)) {
            return k instanceof OctetKeyPair okp && com.nimbusds.jose.jwk.Curve.Ed25519.equals(okp.getCurve())
                    ? EdDsa.verify(okp, jwt.signingInput(), jwt.signature()) : null;
        }
        return null;
    }

    private Object checkClaims(JWTClaimsSet claims, long now) {
        Date exp = claims.getExpirationTime();
        if (exp == null && config.requireExp()) return refuse("missing_exp", "the token has no expiry (exp)");
        if (exp != null && now >= exp.getTime() + skewMillis) return refuse("expired", "the token has expired");
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && now < nbf.getTime() - skewMillis) return refuse("not_yet_valid", "the token is not valid yet (nbf)");
        Date iat = claims.getIssueTime();
        if (iat != null && now < iat.getTime() - skewMillis) return refuse("issued_in_future", "the token was issued in the future (iat)");
        if (config.issuer() != null && !config.issuer().equals(claims.getIssuer())) return refuse("wrong_issuer", "the token's issuer is not accepted");
        if (!config.audiences().isEmpty()) {
            List<String> aud = claims.getAudience();
            if (aud == null || aud.stream().noneMatch(config.audiences()::contains)) {
                return refuse("wrong_audience", "the token is not meant for this API (aud)");
            }
        }
        Object who = claims.getClaim(config.consumerClaim());
        if (who != null && !(who instanceof String)) return refuse("malformed_token", "the claim " + config.consumerClaim() + " is not a string");
        String name = (String) who;
        ConsumerConfig consumer = consumers.byName(name);
        if (consumer != null && consumer.disabled()) return new Refusal(true, "consumer_disabled", "this consumer is disabled");
        Identity id = new Identity(name, claims.getSubject(), scopes(claims), consumer == null ? List.of() : consumer.groups(), "jwt",
                java.util.Collections.unmodifiableMap(claims.getClaims()), consumer != null);
        return new Verified(id, exp == null ? Long.MAX_VALUE : exp.getTime(), null);
    }

    /** {@code scope} (space-separated, RFC 8693) or {@code scp} (a string or an array, as some issuers send). */
    private static List<String> scopes(JWTClaimsSet claims) {
        Object scope = claims.getClaim("scope");
        if (scope == null) scope = claims.getClaim("scp");
        if (scope instanceof String s) return List.of(s.trim().split("\\s+"));
        if (scope instanceof List<?> l) return l.stream().map(String::valueOf).toList();
        return List.of();
    }

    private static Refusal refuse(String reason, String detail) {
        return new Refusal(false, reason, detail);
    }

    /** Text from a token, shortened and stripped of control characters, before it goes into a message. */
    private static String safe(String s) {
        String t = s.length() > 64 ? s.substring(0, 64) + "…" : s;
        return t.replaceAll("[\\p{Cntrl}\"]", "?");
    }
}
