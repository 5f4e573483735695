package io.gatehouse.tls;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;

/**
 * A private CA for local development ({@code gatehouse up}): made once in a data folder, with an edge certificate for
 * localhost, 127.0.0.1 and ::1, reused afterwards (renewed when within 30 days of expiry). Point a client at
 * {@link Files#ca()} to trust it ({@code curl --cacert}). Keys are written readable by the owner only.
 */
public final class LocalAuthority {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration CA_VALIDITY = Duration.ofDays(3650);
    private static final Duration EDGE_VALIDITY = Duration.ofDays(397);

    private LocalAuthority() {}

    /** Where the files are; {@code created} when this call made the CA (first start). */
    public record Files(Path ca, Path edgeCert, Path edgeKey, boolean created) {}

    /** The CA and edge certificate in {@code dir}, creating whichever is missing or about to expire. */
    public static Files ensure(Path dir) throws IOException {
        java.nio.file.Files.createDirectories(dir);
        Path caCert = dir.resolve("ca.crt");
        Path caKey = dir.resolve("ca.key");
        Path edgeCert = dir.resolve("edge.crt");
        Path edgeKey = dir.resolve("edge.key");
        try {
            boolean created = false;
            X509Certificate ca;
            PrivateKey caPrivate;
            if (usable(caCert, caKey)) {
                ca = PemFiles.certificates(caCert).get(0);
                caPrivate = PemFiles.privateKey(caKey);
            } else {
                KeyPair kp = keyPair();
                X500Name name = new X500Name("CN=Gatehouse local CA " + Instant.now().getEpochSecond());
                JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
                ca = sign(builder(name, name, kp, CA_VALIDITY)
                        .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                        .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic())), kp.getPrivate());
                caPrivate = kp.getPrivate();
                writeKey(caKey, caPrivate);
                write(caCert, pem("CERTIFICATE", ca.getEncoded()));
                created = true;
            }
            if (created || !usable(edgeCert, edgeKey)) {
                KeyPair kp = keyPair();
                JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
                GeneralNames sans = new GeneralNames(new GeneralName[] {
                        new GeneralName(GeneralName.dNSName, "localhost"),
                        new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                        new GeneralName(GeneralName.iPAddress, "::1")});
                X509Certificate edge = sign(builder(X500Name.getInstance(ca.getSubjectX500Principal().getEncoded()),
                        new X500Name("CN=localhost"), kp, EDGE_VALIDITY)
                        .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                        .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                        .addExtension(Extension.subjectAlternativeName, false, sans)
                        .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca)), caPrivate);
                writeKey(edgeKey, kp.getPrivate());
                write(edgeCert, pem("CERTIFICATE", edge.getEncoded()) + pem("CERTIFICATE", ca.getEncoded()));
            }
            return new Files(caCert, edgeCert, edgeKey, created);
        } catch (GeneralSecurityException | PemFiles.BadFileException e) {
            throw new IOException("cannot make the local CA in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Both files exist, parse, and the certificate has more than 30 days left. */
    private static boolean usable(Path cert, Path key) {
        if (!java.nio.file.Files.exists(cert) || !java.nio.file.Files.exists(key)) return false;
        try {
            X509Certificate c = PemFiles.certificates(cert).get(0);
            PemFiles.privateKey(key);
            return c.getNotAfter().toInstant().isAfter(Instant.now().plus(Duration.ofDays(30)));
        } catch (PemFiles.BadFileException e) {
            return false;
        }
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair kp, Duration validity) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, new BigInteger(64, RANDOM).abs().add(BigInteger.ONE),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(validity)), subject, kp.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static void writeKey(Path file, PrivateKey key) throws IOException {
        java.nio.file.Files.deleteIfExists(file);
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            java.nio.file.Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        write(file, pem("PRIVATE KEY", key.getEncoded()));
    }

    private static void write(Path file, String text) throws IOException {
        java.nio.file.Files.writeString(file, text, StandardCharsets.US_ASCII);
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
