package io.gatehouse.cli.system;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * API keys: 256 random bits, shown as {@code gh_…}; configurations keep only their SHA-256. {@code gatehouse up} keeps
 * its demo consumer's key in its home folder (owner-only), so the key printed in the banner, and the scripts that use
 * it, keep working across restarts.
 */
public final class ApiKeyFile {
    public static final String NAME = "api-key";
    private static final SecureRandom RANDOM = new SecureRandom();

    private ApiKeyFile() {}

    public static String newKey() {
        byte[] bits = new byte[32];
        RANDOM.nextBytes(bits);
        return "gh_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bits);
    }

    public static String sha256(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The key in {@code file}, or a new one written there readable by its owner only. */
    static String loadOrCreate(Path file) throws IOException {
        String existing = read(file);
        if (existing != null) return existing;
        String key = newKey();
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(tmp); // not a POSIX file system
        }
        Files.writeString(tmp, key + "\n");
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return key;
    }

    /** The key in {@code file}, or null if there is none (or it is not a key). */
    public static String read(Path file) {
        try {
            String key = Files.readString(file).trim();
            return key.matches("gh_[A-Za-z0-9_-]{43}") ? key : null;
        } catch (IOException e) {
            return null;
        }
    }
}
