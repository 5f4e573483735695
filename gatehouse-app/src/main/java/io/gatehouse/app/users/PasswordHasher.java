package io.gatehouse.app.users;

import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * argon2id with OWASP's minimum (19 MiB, 2 passes, 1 lane), stored as a PHC string so the parameters travel with
 * the hash and can be raised later without breaking existing accounts.
 */
public final class PasswordHasher {
    private static final int MEMORY_KIB = 19 * 1024, ITERATIONS = 2, PARALLELISM = 1, SALT = 16, LENGTH = 32;
    private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getDecoder();
    private final SecureRandom random = new SecureRandom();

    public String hash(String password) {
        byte[] salt = new byte[SALT];
        random.nextBytes(salt);
        byte[] out = derive(password, salt, MEMORY_KIB, ITERATIONS, PARALLELISM, LENGTH);
        return "$argon2id$v=19$m=" + MEMORY_KIB + ",t=" + ITERATIONS + ",p=" + PARALLELISM + "$" + B64.encodeToString(salt)
                + "$" + B64.encodeToString(out);
    }

    public boolean verify(String password, String phc) {
        String[] p = phc.split("\\$");
        if (p.length != 6 || !p[1].equals("argon2id")) return false;
        int m = 0, t = 0, par = 0;
        for (String kv : p[3].split(",")) {
            int v = Integer.parseInt(kv.substring(2));
            switch (kv.charAt(0)) {
                case 'm' -> m = v;
                case 't' -> t = v;
                case 'p' -> par = v;
                default -> { return false; }
            }
        }
        byte[] expected = B64D.decode(p[5]);
        byte[] actual = derive(password, B64D.decode(p[4]), m, t, par, expected.length);
        return MessageDigest.isEqual(expected, actual); // constant time
    }

    private static byte[] derive(String password, byte[] salt, int memoryKib, int iterations, int parallelism, int length) {
        Argon2BytesGenerator g = new Argon2BytesGenerator();
        g.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id).withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withSalt(salt).withMemoryAsKB(memoryKib).withIterations(iterations).withParallelism(parallelism).build());
        byte[] out = new byte[length];
        g.generateBytes(password.getBytes(java.nio.charset.StandardCharsets.UTF_8), out);
        return out;
    }
}
