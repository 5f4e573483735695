package io.gatehouse.testing;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.cert.ocsp.RespID;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
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
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Certificates made at test time (BouncyCastle), so no private key is ever committed: a CA, and leaf certificates
 * it signs with DNS, IP and URI SANs, with RSA or ECDSA keys, written as PEM files.
 *
 * <pre>{@code
 * Authority ca = TestCertificates.authority("Test CA");
 * Issued edge = ca.issue("edge", "localhost", "127.0.0.1");
 * PemFiles files = edge.writeTo(dir, "edge");          // dir/edge.crt, dir/edge.key
 * SSLContext client = ca.trustingContext();            // for the JDK HttpClient or SSLSocket
 * }</pre>
 */
public final class TestCertificates {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final AtomicLong SERIALS = new AtomicLong(System.currentTimeMillis());

    private TestCertificates() {}

    public enum KeyType { EC, RSA }

    /** Where a certificate (with its chain) and its key were written. */
    public record PemFiles(Path cert, Path key) {}

    /** A self-signed CA with an ECDSA P-256 key. */
    public static Authority authority(String commonName) {
        return authority(commonName, KeyType.EC);
    }

    public static Authority authority(String commonName, KeyType type) {
        KeyPair kp = keyPair(type);
        X500Name name = dn("CN=" + commonName);
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = builder(name, name, kp, Duration.ofDays(2))
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
            return new Authority(sign(b, kp.getPrivate()), kp.getPrivate());
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A CA that signs leaf certificates. */
    public static final class Authority {
        private final X509Certificate certificate;
        private final PrivateKey key;

        private Authority(X509Certificate certificate, PrivateKey key) {
            this.certificate = certificate;
            this.key = key;
        }

        public X509Certificate certificate() { return certificate; }

        /** An ECDSA leaf for {@code subject} ({@code CN=...} or a bare common name) with these SANs. */
        public Issued issue(String subject, String... sans) {
            return issue(KeyType.EC, subject, sans);
        }

        /** An ECDSA leaf whose Authority Information Access names {@code ocspUrl} as its OCSP responder. */
        public Issued issueWithOcsp(String ocspUrl, String subject, String... sans) {
            return issue(KeyType.EC, ocspUrl, subject, sans);
        }

        /**
         * A DER OCSP response (successful, basic) for the certificate {@code serial} this CA issued, valid from a
         * minute ago for an hour, signed by {@code signer}'s key (this CA for a genuine one, another for a forged one).
         */
        public byte[] ocspResponse(BigInteger serial, boolean revoked, Authority signer) {
            try {
                Instant now = Instant.now();
                CertificateID id = new CertificateID(new JcaDigestCalculatorProviderBuilder().build().get(CertificateID.HASH_SHA1),
                        new JcaX509CertificateHolder(certificate), serial);
                BasicOCSPRespBuilder b = new BasicOCSPRespBuilder(new RespID(new JcaX509CertificateHolder(signer.certificate).getSubject()));
                CertificateStatus status = revoked
                        ? new RevokedStatus(Date.from(now.minus(Duration.ofMinutes(30))), CRLReason.keyCompromise)
                        : CertificateStatus.GOOD;
                b.addResponse(id, status, Date.from(now.minus(Duration.ofMinutes(1))), Date.from(now.plus(Duration.ofHours(1))));
                String algorithm = signer.key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
                BasicOCSPResp basic = b.build(new JcaContentSignerBuilder(algorithm).build(signer.key), null, new Date());
                return new OCSPRespBuilder().build(OCSPRespBuilder.SUCCESSFUL, basic).getEncoded();
            } catch (GeneralSecurityException | IOException | org.bouncycastle.operator.OperatorCreationException
                     | org.bouncycastle.cert.ocsp.OCSPException e) {
                throw new IllegalStateException(e);
            }
        }

        /**
         * @param sans DNS names ({@code localhost}, {@code *.example.com}), IPs ({@code 127.0.0.1}, {@code ::1}) or
         *             URIs ({@code spiffe://example.org/billing})
         */
        public Issued issue(KeyType type, String subject, String... sans) {
            return issue(type, null, subject, sans);
        }

        private Issued issue(KeyType type, String ocspUrl, String subject, String... sans) {
            KeyPair kp = keyPair(type);
            X500Name name = dn(subject.contains("=") ? subject : "CN=" + subject);
            try {
                List<GeneralName> names = new ArrayList<>();
                for (String s : sans) {
                    if (s.contains("://")) names.add(new GeneralName(GeneralName.uniformResourceIdentifier, s));
                    else if (s.matches("[0-9.]+") || s.contains(":")) names.add(new GeneralName(GeneralName.iPAddress, s));
                    else names.add(new GeneralName(GeneralName.dNSName, s));
                }
                JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
                X509v3CertificateBuilder b = builder(dn(certificate.getSubjectX500Principal().getName()), name, kp, Duration.ofDays(1))
                        .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
                        .addExtension(Extension.extendedKeyUsage, false,
                                new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                        .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate))
                        .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
                if (ocspUrl != null) {
                    b.addExtension(Extension.authorityInfoAccess, false, new AuthorityInformationAccess(
                            AccessDescription.id_ad_ocsp, new GeneralName(GeneralName.uniformResourceIdentifier, ocspUrl)));
                }
                if (!names.isEmpty()) {
                    b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(new GeneralName[0])));
                }
                return new Issued(sign(b, key), kp.getPrivate(), this);
            } catch (GeneralSecurityException | IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Writes the CA certificate as PEM to {@code file}. */
        public Path writeCertificate(Path file) {
            write(file, pem("CERTIFICATE", encoded(certificate)));
            return file;
        }

        /** A client-side SSLContext that trusts only this CA. */
        public SSLContext trustingContext() {
            return context(null, null, this);
        }
    }

    /** A leaf certificate and its key. */
    public static final class Issued {
        private final X509Certificate certificate;
        private final PrivateKey key;
        private final Authority issuer;

        private Issued(X509Certificate certificate, PrivateKey key, Authority issuer) {
            this.certificate = certificate;
            this.key = key;
            this.issuer = issuer;
        }

        public X509Certificate certificate() { return certificate; }
        public PrivateKey key() { return key; }
        public BigInteger serial() { return certificate.getSerialNumber(); }

        /** Writes {@code dir/name.crt} (leaf, then CA) and {@code dir/name.key} (PKCS#8). */
        public PemFiles writeTo(Path dir, String name) {
            Path cert = dir.resolve(name + ".crt");
            Path keyFile = dir.resolve(name + ".key");
            write(cert, pem("CERTIFICATE", encoded(certificate)) + pem("CERTIFICATE", encoded(issuer.certificate)));
            write(keyFile, pem("PRIVATE KEY", key.getEncoded()));
            return new PemFiles(cert, keyFile);
        }

        /** An SSLContext that presents this certificate (a client certificate for mTLS) and trusts {@code trust}. */
        public SSLContext clientContext(Authority trust) {
            return context(this, key, trust);
        }

        /** An SSLContext that presents this certificate and trusts its own CA (a test TLS server). */
        public SSLContext serverContext() {
            return context(this, key, issuer);
        }
    }

    private static SSLContext context(Issued identity, PrivateKey key, Authority trust) {
        try {
            KeyStore trustStore = KeyStore.getInstance("PKCS12");
            trustStore.load(null, null);
            trustStore.setCertificateEntry("ca", trust.certificate);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trustStore);
            KeyManagerFactory kmf = null;
            if (identity != null) {
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry("me", key, new char[0], new Certificate[] {identity.certificate, identity.issuer.certificate});
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, new char[0]);
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parsed as RFC 2253 (the JDK's reading), so {@code getName()} prints the subject back as it was written. */
    private static X500Name dn(String rfc2253) {
        return X500Name.getInstance(new javax.security.auth.x500.X500Principal(rfc2253).getEncoded());
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair kp, Duration validity) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIALS.incrementAndGet()),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(validity)), subject, kp.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer) throws GeneralSecurityException {
        String algorithm = signer.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        try {
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(algorithm).build(signer)));
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static KeyPair keyPair(KeyType type) {
        try {
            if (type == KeyType.RSA) {
                KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
                g.initialize(2048, RANDOM);
                return g.generateKeyPair();
            }
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] encoded(X509Certificate c) {
        try {
            return c.getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
