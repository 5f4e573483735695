package io.gatehouse.files;

import io.gatehouse.Gatehouse;
import io.gatehouse.Protocol;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.RawClient;
import io.gatehouse.testing.RawResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The {@code files} action over real sockets, HTTP/1.1 in clear and HTTP/2 over TLS: types, validators, conditional
 * and range requests, precompressed siblings, directories, traversal refused, large files zero-copy on plain
 * HTTP/1.1 and read in chunks otherwise, and the route's filters still running.
 */
class FileServerTest {
    @TempDir
    static Path tmp;
    static Path site;
    static byte[] big;
    static Gatehouse h1, h2;
    static Path huge;
    static byte[] hugeSha256;
    static final int HUGE_MIB = 32;
    static final Instant MODIFIED = Instant.parse("2026-11-01T10:00:00Z");

    @BeforeAll
    static void start() throws Exception {
        site = Files.createDirectories(tmp.resolve("site"));
        write("index.html", "<h1>home</h1>");
        write("style.css", "body { color: red }");
        write("style.css.gz", "GZ-BYTES");
        write("style.css.br", "BR-BYTES");
        write("app.a1b2c3.js", "console.log(1)");
        write("data.bin", "0123456789abcdefghij");
        write("notes.unknownext", "x");
        Files.createDirectories(site.resolve("docs"));
        write("docs/index.html", "<h1>docs</h1>");
        Files.createDirectories(site.resolve("empty"));
        write(".env", "SECRET=1");
        Files.writeString(tmp.resolve("secret.txt"), "TOP-SECRET");
        Files.createSymbolicLink(site.resolve("out.txt"), tmp.resolve("secret.txt"));
        Files.createSymbolicLink(site.resolve("outdir"), tmp);
        Files.createSymbolicLink(site.resolve("alias.css"), site.resolve("style.css"));
        big = new byte[3 * 1024 * 1024 + 17];
        new Random(7).nextBytes(big);
        Files.write(site.resolve("big.bin"), big);
        huge = site.resolve("huge.bin");
        try (var out = Files.newOutputStream(huge)) {
            Random r = new Random(11);
            byte[] block = new byte[1024 * 1024];
            for (int i = 0; i < HUGE_MIB; i++) {
                r.nextBytes(block);
                out.write(block);
            }
        }
        hugeSha256 = java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(huge));
        try (var files = Files.walk(site)) {
            for (Path p : files.toList()) if (!Files.isSymbolicLink(p)) Files.setLastModifiedTime(p, FileTime.from(MODIFIED));
        }
        h1 = start(Protocol.HTTP_1_1);
        h2 = start(Protocol.HTTP_2);
    }

    static Gatehouse start(Protocol p) throws Exception {
        return Gatehouse.start(ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    %s
                    routes:
                      - name: wrapped
                        match: {path_prefix: /wrapped/}
                        strip_prefix: /wrapped
                        filters:
                          - headers: {response: {set: {x-filter: ran}}}
                        files: {root: "%s"}
                      - name: cached
                        match: {path_prefix: /cached/}
                        strip_prefix: /cached
                        filters:
                          - cache: {x_cache: true}
                        files: {root: "%s"}
                      - name: site
                        files: {root: "%s"}
                admin: {address: "off"}
                """.formatted(p.listenerTls(), site, site, site), "files.yaml"));
    }

    @AfterAll
    static void stop() {
        if (h1 != null) h1.shutdown(Duration.ofSeconds(1));
        if (h2 != null) h2.shutdown(Duration.ofSeconds(1));
    }

    static void write(String name, String content) throws Exception {
        Files.writeString(site.resolve(name), content);
    }

    static HttpResponse<byte[]> send(Protocol p, String method, String path, String... headers) throws Exception {
        Gatehouse g = p == Protocol.HTTP_1_1 ? h1 : h2;
        HttpRequest.Builder b = HttpRequest.newBuilder(p.uri(g.listenerAddress("edge").getPort(), path))
                .timeout(Duration.ofSeconds(20)).method(method, HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        HttpResponse<byte[]> r = p.client().send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.version()).isEqualTo(p.version());
        return r;
    }

    static HttpResponse<byte[]> get(Protocol p, String path, String... headers) throws Exception {
        return send(p, "GET", path, headers);
    }

    static String body(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    static String header(HttpResponse<?> r, String name) {
        return r.headers().firstValue(name).orElse(null);
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void aFileComesWithItsTypeValidatorsAndCachePolicy(Protocol p) throws Exception {
        HttpResponse<byte[]> r = get(p, "/style.css");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(body(r)).isEqualTo("body { color: red }");
        assertThat(header(r, "content-type")).isEqualTo("text/css; charset=utf-8");
        assertThat(header(r, "content-length")).isEqualTo("19");
        assertThat(header(r, "etag")).matches("\"[0-9a-f]+-13\"");
        assertThat(header(r, "last-modified")).isEqualTo("Sun, 01 Nov 2026 10:00:00 GMT");
        assertThat(header(r, "cache-control")).isEqualTo("public, max-age=300");
        assertThat(header(r, "accept-ranges")).isEqualTo("bytes");
        assertThat(header(r, "vary")).isEqualToIgnoringCase("accept-encoding");
        assertThat(header(r, "content-encoding")).isNull();

        HttpResponse<byte[]> asset = get(p, "/app.a1b2c3.js");
        assertThat(header(asset, "content-type")).isEqualTo("text/javascript; charset=utf-8");
        assertThat(header(asset, "cache-control")).isEqualTo("public, max-age=31536000, immutable");
        assertThat(header(asset, "vary")).as("no sibling: the answer does not vary").isNull();
        assertThat(header(get(p, "/notes.unknownext"), "content-type")).isEqualTo("application/octet-stream");
        assertThat(body(get(p, "/alias.css"))).as("a symlink inside the root is served").isEqualTo("body { color: red }");
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void conditionalRequestsAre304(Protocol p) throws Exception {
        String etag = header(get(p, "/index.html"), "etag");
        HttpResponse<byte[]> inm = get(p, "/index.html", "if-none-match", "\"other\", W/" + etag);
        assertThat(inm.statusCode()).as("weak comparison").isEqualTo(304);
        assertThat(inm.body()).isEmpty();
        assertThat(header(inm, "etag")).isEqualTo(etag);
        assertThat(get(p, "/index.html", "if-none-match", "\"other\"").statusCode()).isEqualTo(200);
        assertThat(get(p, "/index.html", "if-modified-since", "Sun, 01 Nov 2026 10:00:00 GMT").statusCode()).isEqualTo(304);
        assertThat(get(p, "/index.html", "if-modified-since", "Sat, 31 Oct 2026 10:00:00 GMT").statusCode()).isEqualTo(200);
        assertThat(get(p, "/index.html", "if-none-match", "\"other\"", "if-modified-since", "Sun, 01 Nov 2026 10:00:00 GMT")
                .statusCode()).as("If-None-Match wins over If-Modified-Since").isEqualTo(200);
    }

    /** RFC 9110 §13.2.2: If-Match (strong), else If-Unmodified-Since → 412; then If-None-Match, else If-Modified-Since → 304; then If-Range. */
    @ParameterizedTest
    @EnumSource(Protocol.class)
    void preconditionsAre412InTheRfcOrder(Protocol p) throws Exception {
        String etag = header(get(p, "/data.bin"), "etag");
        String lastModified = "Sun, 01 Nov 2026 10:00:00 GMT", before = "Sat, 31 Oct 2026 10:00:00 GMT";
        assertThat(get(p, "/data.bin", "if-match", etag).statusCode()).isEqualTo(200);
        assertThat(get(p, "/data.bin", "if-match", "\"other\", " + etag).statusCode()).as("any listed tag").isEqualTo(200);
        assertThat(get(p, "/data.bin", "if-match", "*").statusCode()).as("* matches an existing file").isEqualTo(200);
        HttpResponse<byte[]> failed = get(p, "/data.bin", "if-match", "\"other\"");
        assertThat(failed.statusCode()).isEqualTo(412);
        assertThat(header(failed, "gatehouse-reason")).isEqualTo("precondition_failed");
        assertThat(body(failed)).doesNotContain("0123456789");
        assertThat(get(p, "/data.bin", "if-match", "W/" + etag).statusCode()).as("strong comparison: a weak tag never matches").isEqualTo(412);
        assertThat(send(p, "HEAD", "/data.bin", "if-match", "\"other\"").statusCode()).isEqualTo(412);

        assertThat(get(p, "/data.bin", "if-unmodified-since", lastModified).statusCode()).isEqualTo(200);
        assertThat(get(p, "/data.bin", "if-unmodified-since", before).statusCode()).as("modified since then").isEqualTo(412);
        assertThat(get(p, "/data.bin", "if-unmodified-since", "yesterday").statusCode()).as("an invalid date is ignored").isEqualTo(200);

        // the order: If-Unmodified-Since only without If-Match; 412 before 304; 304 and If-Range after a precondition holds
        assertThat(get(p, "/data.bin", "if-match", etag, "if-unmodified-since", before).statusCode()).isEqualTo(200);
        assertThat(get(p, "/data.bin", "if-match", "\"other\"", "if-unmodified-since", lastModified).statusCode()).isEqualTo(412);
        assertThat(get(p, "/data.bin", "if-match", "\"other\"", "if-none-match", "\"x\"").statusCode()).isEqualTo(412);
        assertThat(get(p, "/data.bin", "if-unmodified-since", before, "if-none-match", etag).statusCode()).isEqualTo(412);
        assertThat(get(p, "/data.bin", "if-match", etag, "if-none-match", etag).statusCode()).isEqualTo(304);
        assertThat(get(p, "/data.bin", "if-unmodified-since", lastModified, "if-modified-since", lastModified).statusCode()).isEqualTo(304);
        HttpResponse<byte[]> range = get(p, "/data.bin", "if-match", etag, "range", "bytes=2-5", "if-range", etag);
        assertThat(range.statusCode()).isEqualTo(206);
        assertThat(body(range)).isEqualTo("2345");
        assertThat(get(p, "/data.bin", "if-match", "\"other\"", "range", "bytes=2-5").statusCode()).isEqualTo(412);

        assertThat(get(p, "/missing.bin", "if-match", "*").statusCode()).as("no file: 404 whatever the preconditions").isEqualTo(404);
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void headHasTheHeadersAndNoBody(Protocol p) throws Exception {
        HttpResponse<byte[]> r = send(p, "HEAD", "/big.bin");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(header(r, "content-length")).isEqualTo(String.valueOf(big.length));
        assertThat(r.body()).isEmpty();
        HttpResponse<byte[]> post = send(p, "POST", "/index.html");
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(header(post, "allow")).isEqualTo("GET, HEAD");
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void rangesAreServed(Protocol p) throws Exception {
        HttpResponse<byte[]> one = get(p, "/data.bin", "range", "bytes=2-5");
        assertThat(one.statusCode()).isEqualTo(206);
        assertThat(body(one)).isEqualTo("2345");
        assertThat(header(one, "content-range")).isEqualTo("bytes 2-5/20");
        assertThat(body(get(p, "/data.bin", "range", "bytes=-3"))).isEqualTo("hij");

        HttpResponse<byte[]> two = get(p, "/data.bin", "range", "bytes=0-1, 10-");
        assertThat(two.statusCode()).isEqualTo(206);
        String type = header(two, "content-type");
        assertThat(type).startsWith("multipart/byteranges; boundary=");
        String boundary = type.substring(type.indexOf('=') + 1);
        assertThat(body(two)).isEqualTo("\r\n--" + boundary + "\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-1/20\r\n\r\n01"
                + "\r\n--" + boundary + "\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 10-19/20\r\n\r\nabcdefghij"
                + "\r\n--" + boundary + "--\r\n");

        HttpResponse<byte[]> none = get(p, "/data.bin", "range", "bytes=50-60");
        assertThat(none.statusCode()).isEqualTo(416);
        assertThat(header(none, "content-range")).isEqualTo("bytes */20");

        String etag = header(one, "etag");
        assertThat(get(p, "/data.bin", "range", "bytes=2-5", "if-range", etag).statusCode()).isEqualTo(206);
        HttpResponse<byte[]> changed = get(p, "/data.bin", "range", "bytes=2-5", "if-range", "\"old\"");
        assertThat(changed.statusCode()).as("If-Range that does not match: the whole").isEqualTo(200);
        assertThat(body(changed)).isEqualTo("0123456789abcdefghij");
        assertThat(get(p, "/data.bin", "range", "bytes=2-5", "if-range", "Sun, 01 Nov 2026 10:00:00 GMT").statusCode()).isEqualTo(206);

        HttpResponse<byte[]> tail = get(p, "/big.bin", "range", "bytes=1000000-1999999");
        assertThat(tail.statusCode()).isEqualTo(206);
        assertThat(tail.body()).isEqualTo(java.util.Arrays.copyOfRange(big, 1_000_000, 2_000_000));
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void precompressedSiblingsAreChosenByAcceptEncoding(Protocol p) throws Exception {
        HttpResponse<byte[]> br = get(p, "/style.css", "accept-encoding", "gzip, br");
        assertThat(body(br)).isEqualTo("BR-BYTES");
        assertThat(header(br, "content-encoding")).isEqualTo("br");
        assertThat(header(br, "content-type")).isEqualTo("text/css; charset=utf-8");
        assertThat(header(br, "vary")).isEqualToIgnoringCase("accept-encoding");
        HttpResponse<byte[]> gz = get(p, "/style.css", "accept-encoding", "gzip, br;q=0");
        assertThat(body(gz)).isEqualTo("GZ-BYTES");
        assertThat(header(gz, "content-encoding")).isEqualTo("gzip");
        assertThat(header(gz, "etag")).as("each representation its own tag").isNotEqualTo(header(br, "etag"));
        assertThat(body(get(p, "/style.css", "accept-encoding", "identity"))).isEqualTo("body { color: red }");
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void directoriesServeTheirIndexAndAreNeverListed(Protocol p) throws Exception {
        assertThat(body(get(p, "/"))).isEqualTo("<h1>home</h1>");
        assertThat(header(get(p, "/"), "content-type")).isEqualTo("text/html; charset=utf-8");
        HttpResponse<byte[]> bare = get(p, "/docs?x=1");
        assertThat(bare.statusCode()).isEqualTo(301);
        assertThat(header(bare, "location")).isEqualTo("/docs/?x=1");
        assertThat(body(get(p, "/docs/"))).isEqualTo("<h1>docs</h1>");
        assertThat(get(p, "/empty/").statusCode()).as("no index, no listing").isEqualTo(404);
        assertThat(get(p, "/index.html/").statusCode()).isEqualTo(404);
        assertThat(get(p, "/missing.html").statusCode()).isEqualTo(404);
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void nothingOutsideTheRootIsServed(Protocol p) throws Exception {
        for (String path : new String[]{"/%2e%2e/secret.txt", "/docs/%2E%2E/%2e%2e/secret.txt", "/docs%2f..%2f..%2fsecret.txt",
                "/..%5csecret.txt", "/index.html%00.txt", "/%c0%ae%c0%ae/secret.txt", "/out.txt", "/outdir/secret.txt", "/.env", "/docs/../.env"}) {
            HttpResponse<byte[]> r = get(p, path);
            assertThat(r.statusCode()).as(path).isIn(400, 404);
            assertThat(body(r)).as(path).doesNotContain("TOP-SECRET").doesNotContain("SECRET=1");
        }
    }

    @Test
    void rawDotSegmentsAreRefusedOnTheWire() {
        for (String path : new String[]{"/../secret.txt", "/docs/../../secret.txt", "/./../secret.txt"}) {
            try (RawClient c = RawClient.connect(h1.listenerAddress("edge"))) {
                RawResponse r = c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").readResponse(Duration.ofSeconds(10));
                assertThat(r.status()).as(path).isIn(400, 404);
                assertThat(r.bodyAsString()).as(path).doesNotContain("TOP-SECRET");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void aLargeFileArrivesWhole(Protocol p) throws Exception {
        long before = FileBody.CHUNKS_READ.sum();
        HttpResponse<byte[]> r = get(p, "/big.bin");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(big);
        long reads = FileBody.CHUNKS_READ.sum() - before;
        if (p == Protocol.HTTP_1_1) {
            assertThat(reads).as("plain HTTP/1.1: sent as a file region (sendfile), never read").isZero();
        } else {
            assertThat(reads).as("TLS/HTTP/2: read in chunks").isGreaterThanOrEqualTo(big.length / FileBody.CHUNK);
        }
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void theRoutesFiltersStillRun(Protocol p) throws Exception {
        long before = FileBody.CHUNKS_READ.sum();
        HttpResponse<byte[]> r = get(p, "/wrapped/big.bin");
        assertThat(header(r, "x-filter")).isEqualTo("ran");
        assertThat(r.body()).isEqualTo(big);
        assertThat(FileBody.CHUNKS_READ.sum() - before).as("a filter wraps the response: read, so it sees the bytes").isPositive();
        assertThat(header(get(p, "/wrapped/style.css"), "x-filter")).isEqualTo("ran");
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void aCacheInFrontStoresTheFilesAnswers(Protocol p) throws Exception {
        HttpResponse<byte[]> miss = get(p, "/cached/big.bin");
        HttpResponse<byte[]> hit = get(p, "/cached/big.bin");
        assertThat(header(miss, "x-cache")).isEqualTo("MISS");
        assertThat(header(hit, "x-cache")).isEqualTo("HIT");
        assertThat(hit.body()).isEqualTo(big);
        assertThat(header(hit, "etag")).isEqualTo(header(miss, "etag"));
    }

    /** A client on TLS (no ALPN: HTTP/1.1, the chunked path), its receive buffer small, sent GET {@code path}; the head read. */
    static javax.net.ssl.SSLSocket tlsGet(String path) throws Exception {
        javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) Protocol.HTTP_2.client().sslContext().getSocketFactory().createSocket();
        s.setReceiveBufferSize(64 * 1024);   // before connect: the window the client offers stays small
        s.connect(h2.listenerAddress("edge"), 5000);
        s.setSoTimeout(20_000);
        s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        StringBuilder head = new StringBuilder();
        java.io.InputStream in = s.getInputStream();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            assertThat(b).as("the head, complete").isNotNegative();
            head.append((char) b);
        }
        assertThat(head.toString()).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: " + (HUGE_MIB << 20));
        return s;
    }

    static int readInto(java.io.InputStream in, java.security.MessageDigest digest, long n) throws Exception {
        byte[] buf = new byte[16 * 1024];
        int got = 0;
        while (got < n) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n - got));
            if (r < 0) break;
            digest.update(buf, 0, r);
            got += r;
        }
        return got;
    }

    /** Descriptors of this process open on {@code file} (the server runs in it). */
    static long openHandles(Path file) throws Exception {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(file.toRealPath());
                } catch (Exception e) {
                    return false;   // closed while listed
                }
            }).count();
        }
    }

    /**
     * The chunked path holds the reading back to the client's pace: a client that stops after 1 MiB of a 32 MiB file
     * stops the reads (once the client's window, the kernel's buffers and the connection's write buffer are full: at
     * most a few MiB ahead, never the file), then takes the rest and gets every byte.
     */
    @Test
    void aSlowReaderGetsEveryByteAndTheServerReadsOnlyAShortWayAheadOfIt() throws Exception {
        long before = FileBody.CHUNKS_READ.sum();
        var digest = java.security.MessageDigest.getInstance("SHA-256");
        try (javax.net.ssl.SSLSocket s = tlsGet("/huge.bin")) {
            long received = readInto(s.getInputStream(), digest, 1 << 20);
            assertThat(received).isEqualTo(1 << 20);
            long[] last = {-1};
            // the client has stopped reading: the server's reads stop too (unchanged over a poll interval, bounded)
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(300)).until(() -> {
                long now = FileBody.CHUNKS_READ.sum();
                boolean still = now == last[0];
                last[0] = now;
                return still;
            });
            long readAhead = (last[0] - before) * FileBody.CHUNK - received;
            System.out.printf("files, slow reader: the server read %d KiB ahead of a client stopped at 1 MiB of %d MiB%n",
                    readAhead >> 10, HUGE_MIB);
            // what may legitimately be ahead: the kernel's send buffer (autotuned up to tcp_wmem's maximum), the
            // client's 64 KiB window, the connection's write buffer and a chunk in flight: 4 MiB is ample for the rest
            long sendBuffer = Long.parseLong(Files.readAllLines(Path.of("/proc/sys/net/ipv4/tcp_wmem")).get(0).trim().split("\\s+")[2]);
            long bound = sendBuffer + (4L << 20);
            assertThat(bound).as("the bound must be below the file for the test to mean anything").isLessThan((long) HUGE_MIB << 20);
            assertThat(readAhead).as("bytes read ahead of the client: its window, the kernel's buffers, one write buffer")
                    .isLessThan(bound);
            received += readInto(s.getInputStream(), digest, ((long) HUGE_MIB << 20) - received);
            assertThat(received).isEqualTo((long) HUGE_MIB << 20);
            assertThat(digest.digest()).as("every byte, in order").isEqualTo(hugeSha256);
        }
    }

    /** A client that goes away mid-file (TLS and HTTP/1.1; HTTP/2, one stream cancelled) releases the file's handle. */
    @Test
    void aClientThatGoesAwayMidFileReleasesTheFile() throws Exception {
        assertThat(openHandles(huge)).isZero();
        javax.net.ssl.SSLSocket s = tlsGet("/huge.bin");
        assertThat(readInto(s.getInputStream(), java.security.MessageDigest.getInstance("SHA-256"), 1 << 20)).isEqualTo(1 << 20);
        assertThat(openHandles(huge)).as("open while it is sent").isEqualTo(1);
        s.setSoLinger(true, 0);   // a reset, as a client that crashes
        s.close();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> openHandles(huge) == 0);

        var client = Protocol.HTTP_2.client();
        HttpResponse<java.io.InputStream> r = client.send(HttpRequest.newBuilder(Protocol.HTTP_2.uri(h2.listenerAddress("edge").getPort(), "/huge.bin"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
        try (java.io.InputStream in = r.body()) {
            assertThat(readInto(in, java.security.MessageDigest.getInstance("SHA-256"), 1 << 20)).isEqualTo(1 << 20);
            assertThat(openHandles(huge)).isEqualTo(1);
        }   // closing the body cancels the stream (RST_STREAM); the connection stays
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> openHandles(huge) == 0);
        assertThat(get(Protocol.HTTP_2, "/style.css").statusCode()).as("the server still serves").isEqualTo(200);
    }

    @Test
    void aMissingRootIsAConfigurationErrorNamingTheRoute() throws Exception {
        var config = ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: site
                        files: {root: "%s"}
                admin: {address: "off"}
                """.formatted(tmp.resolve("nope")), "files.yaml");
        assertThatThrownBy(() -> Gatehouse.start(config)).hasMessageContaining("route site: files: root:").hasMessageContaining("does not exist");
        assertThatThrownBy(() -> ConfigLoader.parse("""
                listeners:
                  - name: edge
                    address: 127.0.0.1:0
                    routes:
                      - name: site
                        cluster: app
                        files: {root: /srv}
                clusters: [{name: app, endpoints: ["127.0.0.1:1"]}]
                """, "both.yaml")).hasMessageContaining("exactly one of cluster, direct_response, redirect, files");
    }
}
