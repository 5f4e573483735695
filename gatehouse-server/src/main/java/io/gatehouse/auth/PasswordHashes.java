package io.gatehouse.auth;

import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.bouncycastle.crypto.params.Argon2Parameters;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;

/** bcrypt and argon2id (PHC string) checks with BouncyCastle, already on the class path for TLS. Slow on purpose. */
final class PasswordHashes {
    private PasswordHashes() {}

    static boolean matches(String hash, String password) {
        if (hash.startsWith("$argon2id$")) return argon2id(hash, password);
        try {
            return OpenBSDBCrypt.checkPassword(hash, password.toCharArray());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** {@code $argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>}, base64 without padding. */
    private static boolean argon2id(String phc, String password) {
        String[] p = phc.split("\\$");
        if (p.length != 6) return false;
        int m = 0, t = 0, par = 0;
        for (String kv : p[3].split(",")) {
            String[] e = kv.split("=");
            if (e.length != 2) return false;
            switch (e[0]) {
                case "m" -> m = Integer.parseInt(e[1]);
                case "t" -> t = Integer.parseInt(e[1]);
                case "p" -> par = Integer.parseInt(e[1]);
                default -> { return false; }
            }
        }
        Base64.Decoder b64 = Base64.getDecoder();
        byte[] salt = b64.decode(pad(p[4]));
        byte[] expected = b64.decode(pad(p[5]));
        Argon2BytesGenerator g = new Argon2BytesGenerator();
        g.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id).withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withMemoryAsKB(m).withIterations(t).withParallelism(par).withSalt(salt).build());
        byte[] actual = new byte[expected.length];
        g.generateBytes(password.getBytes(StandardCharsets.UTF_8), actual);
        return MessageDigest.isEqual(actual, expected);
    }

    private static String pad(String s) {
        return s + "===".substring(0, (4 - s.length() % 4) % 4);
    }
}
