package io.gatehouse.tls;

import org.bouncycastle.asn1.ASN1IA5String;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPException;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.RespID;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cert.ocsp.SingleResp;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.CompletableFuture;

/**
 * Fetches and verifies the OCSP response for one certificate from the responder its Authority Information Access
 * extension names (RFC 6960 over HTTP POST). Only a response that is signed by the issuer (or by a responder
 * certificate the issuer delegated OCSP signing to), says GOOD for this certificate and is current is returned: a
 * client that sees a stapled REVOKED or stale response fails the handshake, so those are never stapled.
 */
final class OcspFetch {
    /** Clocks of responders and servers differ a little; a thisUpdate this far ahead is still accepted. */
    private static final Duration CLOCK_SKEW = Duration.ofMinutes(5);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    // The JDK client is asynchronous: no gatehouse thread (event loop or the tls background one) waits on the network.
    private static final HttpClient HTTP = HttpClient.newBuilder()
            .connectTimeout(CONNECT_TIMEOUT)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();

    /** A verified response: its DER bytes to staple and the window in which it may be stapled. */
    record Good(byte[] der, Instant thisUpdate, Instant nextUpdate) {
        boolean expired(Instant now) {
            return !now.isBefore(nextUpdate);
        }
    }

    /** Why a response cannot be stapled, or the responder could not be asked. */
    static final class OcspFailure extends Exception {
        OcspFailure(String message) {
            super(message);
        }

        OcspFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final X509Certificate leaf;
    private final X509Certificate issuer;
    private final URI responder;
    private final CertificateID id;
    private final byte[] request;

    private OcspFetch(X509Certificate leaf, X509Certificate issuer, URI responder, CertificateID id, byte[] request) {
        this.leaf = leaf;
        this.issuer = issuer;
        this.responder = responder;
        this.id = id;
        this.request = request;
    }

    /**
     * @throws IllegalArgumentException when the certificate names no OCSP responder or its issuer does not sign it
     */
    static OcspFetch of(X509Certificate leaf, X509Certificate issuer) {
        URI responder = responder(leaf);
        if (responder == null) {
            throw new IllegalArgumentException("ocsp_fetch: the certificate has no OCSP responder URL (Authority Information Access)");
        }
        try {
            leaf.verify(issuer.getPublicKey());
        } catch (Exception e) {
            throw new IllegalArgumentException("ocsp_fetch: the second certificate in the file is not the issuer of the first");
        }
        try {
            CertificateID id = new CertificateID(new JcaDigestCalculatorProviderBuilder().build().get(CertificateID.HASH_SHA1),
                    new JcaX509CertificateHolder(issuer), leaf.getSerialNumber());
            // No nonce: responders (and CDNs in front of them) serve pre-signed responses and would refuse or ignore it.
            byte[] request = new OCSPReqBuilder().addRequest(id).build().getEncoded();
            return new OcspFetch(leaf, issuer, responder, id, request);
        } catch (OperatorCreationException | OCSPException | CertificateEncodingException | IOException e) {
            throw new IllegalArgumentException("ocsp_fetch: cannot build the OCSP request: " + e.getMessage(), e);
        }
    }

    URI responder() {
        return responder;
    }

    X509Certificate leaf() {
        return leaf;
    }

    /** Asks the responder; completes with a verified response or fails with an {@link OcspFailure}. */
    CompletableFuture<Good> fetch() {
        HttpRequest req = HttpRequest.newBuilder(responder)
                .timeout(REQUEST_TIMEOUT)
                .header("Content-Type", "application/ocsp-request")
                .header("Accept", "application/ocsp-response")
                .POST(HttpRequest.BodyPublishers.ofByteArray(request))
                .build();
        return HTTP.sendAsync(req, HttpResponse.BodyHandlers.ofByteArray())
                .handle((res, error) -> {
                    if (error != null) {
                        Throwable cause = error.getCause() != null ? error.getCause() : error;
                        throw new OcspFailureWrapper(new OcspFailure("responder " + responder + " unreachable: " + cause, cause));
                    }
                    if (res.statusCode() != 200) {
                        throw new OcspFailureWrapper(new OcspFailure("responder " + responder + " answered HTTP " + res.statusCode()));
                    }
                    try {
                        return verify(res.body(), Instant.now());
                    } catch (OcspFailure f) {
                        throw new OcspFailureWrapper(new OcspFailure("response from " + responder + " refused: " + f.getMessage(), f));
                    }
                });
    }

    /** Carries a checked {@link OcspFailure} through the future. */
    static final class OcspFailureWrapper extends RuntimeException {
        OcspFailureWrapper(OcspFailure failure) {
            super(failure.getMessage(), failure);
        }
    }

    /** The response, if it may be stapled for this certificate at {@code now}. */
    Good verify(byte[] der, Instant now) throws OcspFailure {
        BasicOCSPResp basic;
        try {
            OCSPResp resp = new OCSPResp(der);
            if (resp.getStatus() != OCSPResp.SUCCESSFUL) throw new OcspFailure("response status " + resp.getStatus() + " (not successful)");
            if (!(resp.getResponseObject() instanceof BasicOCSPResp b)) throw new OcspFailure("not a basic OCSP response");
            basic = b;
        } catch (IOException | OCSPException e) {
            throw new OcspFailure("not an OCSP response: " + e.getMessage(), e);
        }
        if (!signedByIssuerOrDelegate(basic, now)) throw new OcspFailure("not signed by the issuer or a responder it authorized");
        SingleResp single = null;
        for (SingleResp s : basic.getResponses()) {
            if (s.getCertID().equals(id)) single = s;
        }
        if (single == null) throw new OcspFailure("no status for this certificate (serial " + leaf.getSerialNumber().toString(16) + ")");
        CertificateStatus status = single.getCertStatus();
        if (status instanceof RevokedStatus) throw new OcspFailure("the certificate is REVOKED");
        if (status != CertificateStatus.GOOD) throw new OcspFailure("the certificate status is UNKNOWN");
        Instant thisUpdate = single.getThisUpdate().toInstant();
        if (single.getNextUpdate() == null) throw new OcspFailure("no nextUpdate: cannot tell until when it may be stapled");
        Instant nextUpdate = single.getNextUpdate().toInstant();
        if (thisUpdate.isAfter(now.plus(CLOCK_SKEW))) throw new OcspFailure("thisUpdate " + thisUpdate + " is in the future");
        if (!now.isBefore(nextUpdate)) throw new OcspFailure("expired at " + nextUpdate);
        return new Good(der.clone(), thisUpdate, nextUpdate);
    }

    /**
     * RFC 6960 §4.2.2.2: the issuer signed it, or a delegate whose certificate (carried in the response) the issuer
     * signed with the id-kp-OCSPSigning EKU and which is valid now. Either way the ResponderID must name the signer,
     * by name or key hash: clients (OpenSSL's OCSP_basic_verify) look the signer up by it and refuse the staple if not.
     */
    private boolean signedByIssuerOrDelegate(BasicOCSPResp basic, Instant now) {
        X509CertificateHolder issuerHolder;
        try {
            issuerHolder = new JcaX509CertificateHolder(issuer);
        } catch (CertificateEncodingException e) {
            return false;
        }
        if (identifies(basic.getResponderId(), issuerHolder) && signedBy(basic, issuer.getPublicKey())) return true;
        for (X509CertificateHolder holder : basic.getCerts()) {
            try {
                if (!identifies(basic.getResponderId(), holder)) continue;
                if (!holder.isValidOn(Date.from(now))) continue;
                if (!holder.getIssuer().equals(issuerHolder.getSubject())) continue;
                if (!holder.isSignatureValid(new JcaContentVerifierProviderBuilder().build(issuer.getPublicKey()))) continue;
                ExtendedKeyUsage eku = ExtendedKeyUsage.fromExtensions(holder.getExtensions());
                if (eku == null || !eku.hasKeyPurposeId(KeyPurposeId.id_kp_OCSPSigning)) continue;
                if (basic.isSignatureValid(new JcaContentVerifierProviderBuilder().build(holder))) return true;
            } catch (Exception e) {
                // a certificate that cannot be checked is not a delegate; try the next one
            }
        }
        return false;
    }

    /** Whether the ResponderID names {@code signer}: its subject, or the SHA-1 of its public key (RFC 6960 §4.2.1). */
    private static boolean identifies(RespID responderId, X509CertificateHolder signer) {
        if (responderId.equals(new RespID(signer.getSubject()))) return true;
        try {
            return responderId.equals(new RespID(signer.getSubjectPublicKeyInfo(),
                    new JcaDigestCalculatorProviderBuilder().build().get(CertificateID.HASH_SHA1)));
        } catch (OperatorCreationException | OCSPException e) {
            return false;
        }
    }

    private static boolean signedBy(BasicOCSPResp basic, PublicKey key) {
        try {
            return basic.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key));
        } catch (OperatorCreationException | OCSPException e) {
            return false;
        }
    }

    /** The first http(s) OCSP URL of the certificate's Authority Information Access extension, or null. */
    static URI responder(X509Certificate leaf) {
        try {
            var ext = new JcaX509CertificateHolder(leaf).getExtension(Extension.authorityInfoAccess);
            if (ext == null) return null;
            for (AccessDescription d : AuthorityInformationAccess.getInstance(ext.getParsedValue()).getAccessDescriptions()) {
                if (!d.getAccessMethod().equals(AccessDescription.id_ad_ocsp)) continue;
                GeneralName location = d.getAccessLocation();
                if (location.getTagNo() != GeneralName.uniformResourceIdentifier) continue;
                String url = ASN1IA5String.getInstance(location.getName()).getString();
                URI uri = URI.create(url);
                if ("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme())) return uri;
            }
            return null;
        } catch (CertificateEncodingException | IllegalArgumentException e) {
            return null;
        }
    }
}
