package io.gatehouse.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWEObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.DirectDecrypter;
import com.nimbusds.jose.crypto.DirectEncrypter;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/**
 * Cookie values the browser keeps for us and cannot read or change: compact JWE, {@code dir} with AES-256-GCM under
 * a key derived from the configured secret (GCM authenticates, so a changed cookie fails to open). The edge keeps no
 * session state: any edge with the same secret opens the cookie.
 */
final class SessionCookies {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final DirectEncrypter encrypter;
    private final DirectDecrypter decrypter;

    SessionCookies(String secret) {
        try {
            byte[] key = MessageDigest.getInstance("SHA-256").digest(("gatehouse-session\0" + secret).getBytes(StandardCharsets.UTF_8));
            this.encrypter = new DirectEncrypter(key);
            this.decrypter = new DirectDecrypter(key);
        } catch (Exception e) {
            throw new IllegalStateException("cannot set up session encryption: " + e.getMessage(), e);
        }
    }

    String seal(Map<String, Object> values) {
        try {
            JWEObject jwe = new JWEObject(new JWEHeader(JWEAlgorithm.DIR, EncryptionMethod.A256GCM),
                    new Payload(JSON.writeValueAsString(values)));
            jwe.encrypt(encrypter);
            return jwe.serialize();
        } catch (Exception e) {
            throw new IllegalStateException("cannot seal a session: " + e.getMessage(), e);
        }
    }

    /** The values, or null for anything that is not a cookie we sealed with this secret. */
    @SuppressWarnings("unchecked")
    Map<String, Object> open(String value) {
        if (value == null || value.isEmpty() || value.length() > 8192) return null;
        try {
            JWEObject jwe = JWEObject.parse(value);
            if (!JWEAlgorithm.DIR.equals(jwe.getHeader().getAlgorithm())) return null;
            jwe.decrypt(decrypter);
            return JSON.readValue(jwe.getPayload().toString(), Map.class);
        } catch (Exception e) {
            return null;
        }
    }
}
