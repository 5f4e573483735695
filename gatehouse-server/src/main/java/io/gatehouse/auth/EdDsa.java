package io.gatehouse.auth;

import com.nimbusds.jose.jwk.OctetKeyPair;

import java.math.BigInteger;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.EdECPoint;
import java.security.spec.EdECPublicKeySpec;
import java.security.spec.NamedParameterSpec;

/**
 * Ed25519 signatures with the JDK's own provider (Java 15+). nimbus-jose-jwt verifies EdDSA only through Tink, a
 * large optional dependency; the JDK does the same with a key decoded from the JWK's {@code x} (RFC 8037).
 */
final class EdDsa {
    private EdDsa() {}

    static boolean verify(OctetKeyPair okp, byte[] signingInput, byte[] signature) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(publicKey(okp.getX().decode()));
            s.update(signingInput);
            return s.verify(signature);
        } catch (java.security.GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    /** The 32 bytes RFC 8037 puts in {@code x}: the inverse of {@link #publicKey}. */
    static byte[] raw(java.security.interfaces.EdECPublicKey key) {
        var point = key.getPoint();
        byte[] be = point.getY().toByteArray();
        byte[] le = new byte[32];
        for (int i = 0; i < Math.min(32, be.length); i++) le[i] = be[be.length - 1 - i];
        if (point.isXOdd()) le[31] |= (byte) 0x80;
        return le;
    }

    /** RFC 8032 §5.1.3: the point's y little-endian, its top bit the x's parity. */
    static PublicKey publicKey(byte[] x) throws java.security.GeneralSecurityException {
        if (x.length != 32) throw new java.security.InvalidKeyException("an Ed25519 key has 32 bytes");
        byte[] be = new byte[32];
        for (int i = 0; i < 32; i++) be[i] = x[31 - i];
        boolean xOdd = (be[0] & 0x80) != 0;
        be[0] &= 0x7f;
        EdECPoint point = new EdECPoint(xOdd, new BigInteger(1, be));
        return KeyFactory.getInstance("Ed25519").generatePublic(new EdECPublicKeySpec(NamedParameterSpec.ED25519, point));
    }
}
