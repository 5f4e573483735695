package io.gatehouse.tls;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Reads PEM certificates and keys and checks they belong together, so a bad file is refused with a message naming
 * it instead of failing later in a handshake. Keys go through BouncyCastle, which reads PKCS#8, PKCS#1 and SEC1.
 */
public final class PemFiles {
    private PemFiles() {}

    /** A certificate chain (leaf first) and its private key. */
    public record KeyMaterial(PrivateKey key, List<X509Certificate> chain) {
        public X509Certificate leaf() { return chain.get(0); }
    }

    /** A file that cannot be used; the message names the file and what is wrong. */
    public static final class BadFileException extends Exception {
        BadFileException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public static KeyMaterial keyMaterial(Path certFile, Path keyFile) throws BadFileException {
        List<X509Certificate> chain = certificates(certFile);
        PrivateKey key = privateKey(keyFile);
        if (!belongTogether(key, chain.get(0).getPublicKey())) {
            throw new BadFileException(keyFile + ": the private key does not match the certificate in " + certFile, null);
        }
        return new KeyMaterial(key, chain);
    }

    public static List<X509Certificate> certificates(Path file) throws BadFileException {
        try (InputStream in = Files.newInputStream(file)) {
            List<X509Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                    .map(X509Certificate.class::cast).toList();
            if (certs.isEmpty()) throw new BadFileException(file + ": no PEM certificate found", null);
            return certs;
        } catch (IOException | GeneralSecurityException e) {
            throw new BadFileException(file + ": not a readable PEM certificate: " + e.getMessage(), e);
        }
    }

    public static PrivateKey privateKey(Path file) throws BadFileException {
        try (Reader r = Files.newBufferedReader(file); PEMParser parser = new PEMParser(r)) {
            Object o = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair pair) return converter.getKeyPair(pair).getPrivate();
            if (o instanceof PrivateKeyInfo info) return converter.getPrivateKey(info);
            throw new BadFileException(file + ": no unencrypted PEM private key found" + (o == null ? "" : " (found " + o.getClass().getSimpleName() + ")"), null);
        } catch (IOException | RuntimeException e) {
            throw new BadFileException(file + ": not a readable PEM private key: " + e.getMessage(), e);
        }
    }

    /** Signs a random challenge and verifies it with the certificate's key: works for RSA, EC and EdDSA alike. */
    static boolean belongTogether(PrivateKey key, PublicKey pub) {
        if (!key.getAlgorithm().equals(pub.getAlgorithm())) return false;
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // Ed25519, Ed448
        };
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature s = Signature.getInstance(algorithm);
            s.initSign(key);
            s.update(challenge);
            byte[] signature = s.sign();
            Signature v = Signature.getInstance(algorithm);
            v.initVerify(pub);
            v.update(challenge);
            return v.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
