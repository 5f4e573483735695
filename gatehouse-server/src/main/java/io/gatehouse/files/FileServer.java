package io.gatehouse.files;

import io.gatehouse.http.ByteRanges;

import io.gatehouse.config.FilesConfig;
import io.gatehouse.filter.FilterChain;
import io.gatehouse.filter.NamedFilter;
import io.gatehouse.http.HttpExchange;
import io.gatehouse.http.LocalResponse;
import io.gatehouse.route.Route;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.RejectedExecutionException;
import java.util.regex.Pattern;

/**
 * The {@code files} action: answers GET and HEAD from a directory, as a web server does. Per request: the path is
 * checked ({@link RequestPaths}), the file found under the root (its real path, symlinks resolved, must stay inside
 * it), a precompressed {@code .br}/{@code .gz} sibling chosen by {@code Accept-Encoding}, then the answer: 200 with
 * {@code Content-Type}, {@code ETag}, {@code Last-Modified} and {@code Cache-Control}; 412 for a false
 * {@code If-Match} (strong comparison) or {@code If-Unmodified-Since}; 304 for the client's own
 * {@code If-None-Match} (weak comparison) or {@code If-Modified-Since}; 206/416 for {@code Range} (with
 * {@code If-Range}); in RFC 9110 §13.2.2's order. A directory serves its index file; there is no listing. Opening and stat-ing run on
 * {@link FileSystemThreads}, never on the event loop; the body goes out as {@link FileBody} says.
 */
public final class FileServer implements NamedFilter {
    /** Up to this many body bytes are read together with the open, in one trip to the file-system threads. */
    static final int SMALL = 64 * 1024;
    static final String IMMUTABLE = "public, max-age=31536000, immutable";

    private final Path root;
    private final FilesConfig config;
    private final Pattern fingerprint;

    /** @throws IllegalArgumentException when the root is not a readable directory ({@code root: …}) */
    public FileServer(FilesConfig config) {
        this.config = config;
        this.fingerprint = Pattern.compile(config.fingerprint());
        Path r = Path.of(config.root()).toAbsolutePath();
        try {
            this.root = r.toRealPath();
        } catch (IOException e) {
            throw new IllegalArgumentException("root: " + r + " does not exist");
        }
        if (!Files.isDirectory(root)) throw new IllegalArgumentException("root: " + r + " is not a directory");
    }

    @Override
    public String name() {
        return "files";
    }

    /** What the answer depends on in the request, read on the event loop before the file-system threads run. */
    private record Ask(String clientPath, String query, RequestPaths.Target target, boolean head, String acceptEncoding,
                       String ifMatch, String ifUnmodifiedSince, String ifNoneMatch, String ifModifiedSince, String range,
                       String ifRange) {}

    @Override
    public void filter(HttpExchange exchange, FilterChain chain) {
        HttpMethod method = exchange.request().method();
        boolean head = method.equals(HttpMethod.HEAD);
        if (!head && !method.equals(HttpMethod.GET)) {
            exchange.failureReason("method_not_allowed");
            FullHttpResponse r = LocalResponse.error(HttpResponseStatus.METHOD_NOT_ALLOWED, "method_not_allowed");
            r.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
            LocalResponse.send(exchange, r);
            return;
        }
        String path = exchange.route() instanceof Route route ? route.rewrite(exchange.path()) : exchange.path();
        RequestPaths.Target target;
        try {
            target = RequestPaths.parse(path);
        } catch (RequestPaths.Refused e) {
            LocalResponse.fail(exchange, e.badRequest ? HttpResponseStatus.BAD_REQUEST : HttpResponseStatus.NOT_FOUND,
                    e.badRequest ? "bad_path" : "not_found");
            return;
        }
        HttpHeaders h = exchange.request().headers();
        Ask ask = new Ask(exchange.path(), exchange.query(), target, head, h.get(HttpHeaderNames.ACCEPT_ENCODING),
                h.get(HttpHeaderNames.IF_MATCH), h.get(HttpHeaderNames.IF_UNMODIFIED_SINCE), h.get(HttpHeaderNames.IF_NONE_MATCH), h.get(HttpHeaderNames.IF_MODIFIED_SINCE), h.get(HttpHeaderNames.RANGE),
                h.get(HttpHeaderNames.IF_RANGE));
        chain.later(exchange);
        try {
            FileSystemThreads.execute(() -> {
                Object answer;
                try {
                    answer = answer(ask);
                } catch (RuntimeException e) {
                    answer = new Failure(HttpResponseStatus.INTERNAL_SERVER_ERROR, "file_error");
                }
                Object a = answer;
                exchange.eventLoop().execute(() -> send(exchange, a));
            });
        } catch (RejectedExecutionException e) {
            LocalResponse.fail(exchange, HttpResponseStatus.SERVICE_UNAVAILABLE, "files_busy");
        }
    }

    private record Failure(HttpResponseStatus status, String reason) {}

    private static void send(HttpExchange exchange, Object answer) {
        if (exchange.completed() || exchange.clientGone()) {
            if (answer instanceof FullHttpResponse r) r.release();
            else if (answer instanceof FileBody b) b.discard();
            return;
        }
        switch (answer) {
            case Failure f -> LocalResponse.fail(exchange, f.status(), f.reason());
            case FullHttpResponse r -> {
                // not a local answer: the directory is this route's origin, so a cache in front stores what it serves
                if (exchange.requestIdValue() != null) r.headers().set(LocalResponse.REQUEST_ID_HEADER, exchange.requestIdValue());
                exchange.response().write(r);
                exchange.response().flush();
            }
            case FileBody b -> b.start(exchange);
            default -> throw new IllegalStateException("unexpected answer " + answer);
        }
    }

    // ---- on the file-system threads ----

    private Object answer(Ask ask) {
        Path logical = root;
        for (String name : ask.target().names()) logical = logical.resolve(name);
        try {
            Path real = inside(logical);
            if (real == null) return notFound();
            BasicFileAttributes attrs = Files.readAttributes(real, BasicFileAttributes.class);
            if (attrs.isDirectory()) {
                if (!ask.target().directoryForm()) {
                    // a directory's index links relative to the directory: its URL must end in /
                    FullHttpResponse r = LocalResponse.text(HttpResponseStatus.MOVED_PERMANENTLY, "", null);
                    r.headers().set(HttpHeaderNames.LOCATION, ask.clientPath() + "/" + (ask.query() == null ? "" : "?" + ask.query()));
                    return r;
                }
                logical = logical.resolve(config.index());
                real = inside(logical);
                if (real == null) return notFound();
                attrs = Files.readAttributes(real, BasicFileAttributes.class);
            } else if (ask.target().directoryForm()) {
                return notFound();
            }
            if (!attrs.isRegularFile()) return notFound();
            return file(ask, logical, real, attrs);
        } catch (java.nio.file.NoSuchFileException | java.nio.file.AccessDeniedException e) {
            return notFound();
        } catch (IOException e) {
            return new Failure(HttpResponseStatus.INTERNAL_SERVER_ERROR, "file_error");
        }
    }

    private static Failure notFound() {
        return new Failure(HttpResponseStatus.NOT_FOUND, "not_found");
    }

    /** The real path of {@code logical} if it exists and is under the root (a symlink may not lead out); else null. */
    private Path inside(Path logical) throws IOException {
        if (!Files.exists(logical, LinkOption.NOFOLLOW_LINKS)) return null;
        Path real;
        try {
            real = logical.toRealPath();
        } catch (java.nio.file.NoSuchFileException e) {
            return null;   // a dangling link
        }
        return real.startsWith(root) ? real : null;
    }

    private Object file(Ask ask, Path logical, Path real, BasicFileAttributes attrs) throws IOException {
        String name = logical.getFileName().toString();
        String encoding = null;
        boolean vary = false;
        if (config.precompressed()) {
            for (String[] sibling : new String[][]{{"br", ".br"}, {"gzip", ".gz"}}) {
                Path s = inside(logical.resolveSibling(name + sibling[1]));
                if (s == null) continue;
                BasicFileAttributes sa = Files.readAttributes(s, BasicFileAttributes.class);
                if (!sa.isRegularFile()) continue;
                vary = true;   // the answer depends on Accept-Encoding once any sibling exists
                if (encoding == null && accepts(ask.acceptEncoding(), sibling[0])) {
                    encoding = sibling[0];
                    real = s;
                    attrs = sa;
                }
            }
        }
        long length = attrs.size();
        long modified = attrs.lastModifiedTime().toMillis();
        String etag = "\"" + Long.toHexString(modified) + "-" + Long.toHexString(length) + (encoding == null ? "" : "-" + encoding) + "\"";
        String lastModified = DateFormatter.format(new Date(modified));

        HttpHeaders h = new DefaultHttpHeaders();
        h.set(HttpHeaderNames.CONTENT_TYPE, ContentTypes.of(name));
        if (encoding != null) h.set(HttpHeaderNames.CONTENT_ENCODING, encoding);
        if (vary) h.set(HttpHeaderNames.VARY, HttpHeaderNames.ACCEPT_ENCODING);
        h.set(HttpHeaderNames.ETAG, etag);
        h.set(HttpHeaderNames.LAST_MODIFIED, lastModified);
        String cacheControl = fingerprint.matcher(name).matches() ? IMMUTABLE : config.cacheControl();
        if (!cacheControl.isEmpty()) h.set(HttpHeaderNames.CACHE_CONTROL, cacheControl);
        h.set(HttpHeaderNames.ACCEPT_RANGES, "bytes");

        // RFC 9110 §13.2.2: If-Match, else If-Unmodified-Since (412); then If-None-Match, else If-Modified-Since (304);
        // then If-Range. Only for a file that exists: a 404 stays a 404 whatever the preconditions say.
        if (ask.ifMatch() != null ? !matchHolds(ask.ifMatch(), etag) : !unmodifiedSince(ask.ifUnmodifiedSince(), modified)) {
            return new Failure(HttpResponseStatus.PRECONDITION_FAILED, "precondition_failed");
        }
        if (ask.ifNoneMatch() != null ? noneMatchFails(ask.ifNoneMatch(), etag) : notModifiedSince(ask.ifModifiedSince(), modified)) {
            HttpHeaders n = new DefaultHttpHeaders();
            for (var name304 : List.of(HttpHeaderNames.ETAG, HttpHeaderNames.LAST_MODIFIED, HttpHeaderNames.CACHE_CONTROL, HttpHeaderNames.VARY)) {
                String v = h.get(name304);
                if (v != null) n.set(name304, v);
            }
            return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED, Unpooled.EMPTY_BUFFER, n, new DefaultHttpHeaders());
        }

        HttpResponseStatus status = HttpResponseStatus.OK;
        List<Object> parts = new ArrayList<>();   // ByteBuf (multipart framing) or long[]{position, count} of the file
        if (ask.range() != null && !ask.head() && ifRangeHolds(ask.ifRange(), etag, lastModified)) {
            List<long[]> ranges = ByteRanges.parse(ask.range(), length);
            if (ranges != null && ranges.isEmpty()) {
                HttpHeaders e = new DefaultHttpHeaders();
                e.set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + length);
                e.set(HttpHeaderNames.CONTENT_LENGTH, 0);
                e.set(HttpHeaderNames.ETAG, etag);
                e.set(HttpHeaderNames.LAST_MODIFIED, lastModified);
                return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                        Unpooled.EMPTY_BUFFER, e, new DefaultHttpHeaders());
            }
            if (ranges != null && ranges.size() == 1) {
                long[] one = ranges.get(0);
                status = HttpResponseStatus.PARTIAL_CONTENT;
                h.set(HttpHeaderNames.CONTENT_RANGE, "bytes " + one[0] + "-" + one[1] + "/" + length);
                parts.add(new long[]{one[0], one[1] - one[0] + 1});
            } else if (ranges != null) {
                status = HttpResponseStatus.PARTIAL_CONTENT;
                String boundary = "gatehouse-" + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong());
                String type = h.get(HttpHeaderNames.CONTENT_TYPE);
                for (long[] one : ranges) {
                    parts.add(ascii("\r\n--" + boundary + "\r\nContent-Type: " + type + "\r\nContent-Range: bytes "
                            + one[0] + "-" + one[1] + "/" + length + "\r\n\r\n"));
                    parts.add(new long[]{one[0], one[1] - one[0] + 1});
                }
                parts.add(ascii("\r\n--" + boundary + "--\r\n"));
                h.set(HttpHeaderNames.CONTENT_TYPE, "multipart/byteranges; boundary=" + boundary);
            }
        }
        if (parts.isEmpty()) parts.add(new long[]{0, length});
        long bodyLength = 0;
        for (Object p : parts) bodyLength += p instanceof ByteBuf b ? b.readableBytes() : ((long[]) p)[1];
        h.set(HttpHeaderNames.CONTENT_LENGTH, bodyLength);

        if (ask.head()) {
            return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER, h, new DefaultHttpHeaders());
        }
        FileChannel channel = FileChannel.open(real, StandardOpenOption.READ);
        try {
            if (bodyLength <= SMALL) {
                CompositeByteBuf body = PooledByteBufAllocator.DEFAULT.compositeDirectBuffer(parts.size());
                try {
                    for (Object p : parts) {
                        if (p instanceof ByteBuf b) {
                            body.addComponent(true, b);
                        } else {
                            long[] span = (long[]) p;
                            ByteBuf piece = PooledByteBufAllocator.DEFAULT.directBuffer((int) span[1]);
                            try {
                                FileBody.readFully(channel, piece, span[0], (int) span[1]);
                            } catch (IOException | RuntimeException e) {
                                piece.release();
                                throw e;
                            }
                            body.addComponent(true, piece);
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    body.release();
                    throw e;
                }
                return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body, h, new DefaultHttpHeaders());
            }
            FileBody b = new FileBody(new DefaultHttpResponse(HttpVersion.HTTP_1_1, status, h), parts, channel);
            channel = null;   // the body owns it now
            return b;
        } finally {
            if (channel != null) channel.close();
        }
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** The coding is acceptable: named with q > 0, or covered by {@code *} with q > 0 and not refused by name. */
    static boolean accepts(String acceptEncoding, String coding) {
        if (acceptEncoding == null) return false;
        Boolean star = null;
        for (String item : acceptEncoding.split(",")) {
            String[] p = item.split(";");
            String token = p[0].strip().toLowerCase(Locale.ROOT);
            boolean ok = true;
            for (int i = 1; i < p.length; i++) {
                String param = p[i].strip().toLowerCase(Locale.ROOT);
                if (param.startsWith("q=")) {
                    try {
                        ok = Double.parseDouble(param.substring(2)) > 0;
                    } catch (NumberFormatException e) {
                        ok = false;
                    }
                }
            }
            if (token.equals(coding) || (coding.equals("gzip") && token.equals("x-gzip"))) return ok;
            if (token.equals("*")) star = ok;
        }
        return star != null && star;
    }

    /** If-Match holds when it is {@code *} (the file exists) or a listed tag is strongly equal (RFC 9110 §13.1.1). */
    static boolean matchHolds(String ifMatch, String etag) {
        if (ifMatch.strip().equals("*")) return true;
        if (etag.startsWith("W/")) return false;   // a weak validator never matches strongly
        for (String t : ifMatch.split(",")) if (t.strip().equals(etag)) return true;
        return false;
    }

    /** If-Unmodified-Since holds when absent, not a valid date (ignored, §13.1.4), or not before the modification. */
    private static boolean unmodifiedSince(String ifUnmodifiedSince, long modifiedMillis) {
        if (ifUnmodifiedSince == null) return true;
        Date since = DateFormatter.parseHttpDate(ifUnmodifiedSince);
        // Last-Modified has one-second resolution: compare what the client was given
        return since == null || modifiedMillis / 1000 <= since.getTime() / 1000;
    }

    /** If-None-Match is false (answer 304) when it is {@code *} or any listed tag matches weakly (RFC 9110 §8.8.3.2). */
    static boolean noneMatchFails(String ifNoneMatch, String etag) {
        if (ifNoneMatch.strip().equals("*")) return true;
        String mine = weak(etag);
        for (String t : ifNoneMatch.split(",")) if (weak(t).equals(mine)) return true;
        return false;
    }

    private static String weak(String tag) {
        String t = tag.strip();
        return t.startsWith("W/") ? t.substring(2) : t;
    }

    private static boolean notModifiedSince(String ifModifiedSince, long modifiedMillis) {
        if (ifModifiedSince == null) return false;
        Date since = DateFormatter.parseHttpDate(ifModifiedSince);
        // Last-Modified has one-second resolution: compare what the client was given
        return since != null && modifiedMillis / 1000 <= since.getTime() / 1000;
    }

    /** If-Range (RFC 9110 §13.1.5): absent, or the ETag strongly equal, or exactly the Last-Modified sent. */
    private static boolean ifRangeHolds(String ifRange, String etag, String lastModified) {
        if (ifRange == null) return true;
        String v = ifRange.strip();
        if (v.startsWith("\"") || v.startsWith("W/")) return v.equals(etag);
        Date at = DateFormatter.parseHttpDate(v), mine = DateFormatter.parseHttpDate(lastModified);
        return at != null && mine != null && at.getTime() == mine.getTime();
    }
}
