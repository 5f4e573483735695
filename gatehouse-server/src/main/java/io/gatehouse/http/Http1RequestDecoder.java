package io.gatehouse.http;

import static io.gatehouse.http.HttpSyntax.CR;
import static io.gatehouse.http.HttpSyntax.HTAB;
import static io.gatehouse.http.HttpSyntax.LF;
import static io.gatehouse.http.HttpSyntax.SP;
import static io.gatehouse.http.HttpSyntax.TCHAR;
import static io.gatehouse.http.HttpSyntax.hexValue;
import static io.gatehouse.http.HttpSyntax.invalid;
import static io.gatehouse.http.HttpSyntax.isDigit;
import static io.gatehouse.http.HttpSyntax.skipOws;
import static io.gatehouse.http.HttpSyntax.validChunkExtensions;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Strict HTTP/1.1 request decoder for the edge. Hand-written (not Netty's {@code HttpRequestDecoder}) because an edge
 * must reject every framing ambiguity that lets a client smuggle a request past it, and this is the hottest path.
 *
 * <h2>Output</h2>
 * A request without a body (neither Content-Length above 0 nor Transfer-Encoding: most requests) is one
 * {@link FullHttpRequest} with an empty buffer and {@link EmptyHttpHeaders#INSTANCE} as trailers. A request with a
 * body: one {@link DefaultHttpRequest}, then zero or more {@code HttpContent} whose content is a retained slice of the
 * received bytes (streamed as it arrives, never aggregated), then one {@link LastHttpContent}:
 * {@link LastHttpContent#EMPTY_LAST_CONTENT}, or a {@link DefaultLastHttpContent} with an empty buffer carrying the
 * trailers of a chunked body that had some. Either way headers are unvalidated by Netty, since they were validated
 * here, once; the version is HTTP/1.0 or 1.1.
 * On any violation: one {@link RejectedRequest} (possibly after the request head and some content, when the body
 * framing breaks) and every later byte on the connection is discarded; the handler answers and closes.
 *
 * <h2>Decisions</h2>
 * <ul>
 * <li>Line ends: CRLF or bare LF in the head (RFC 9112 §2.2 allows LF; harmless because we re-serialize everything we
 *     forward), but a CR not followed by LF is rejected ({@code bare CR}). Chunked framing (chunk lines, the CRLF after
 *     chunk data, trailers) requires CRLF: that is where smuggling lives and no real client sends bare LF there.</li>
 * <li>Up to {@value #MAX_LEADING_EMPTY_LINES} empty lines before a request line are skipped (RFC 9112 §2.2).</li>
 * <li>Request line: exactly {@code method SP target SP version}; no leading whitespace, no repeated spaces. The
 *     request line may be at most {@code maxUriLength + }{@value #REQUEST_LINE_OVERHEAD} bytes and the target at most
 *     {@code maxUriLength}: over either, 414.</li>
 * <li>Target bytes: visible ASCII only (0x21-0x7E). Forms: origin ({@code /...}); asterisk only with OPTIONS;
 *     authority ({@code host:port}, port required) only with, and required by, CONNECT; absolute only for
 *     {@code http}/{@code https} without userinfo. Absolute-form is rewritten to origin-form and its authority replaces
 *     the Host header (RFC 9112 §3.2.2: the target wins), so routing only ever looks at Host + path.</li>
 * <li>Version: {@code HTTP/1.0} and {@code HTTP/1.1}; any other {@code HTTP/d.d} is 505, anything else 400.</li>
 * <li>Host: required in HTTP/1.1, at most one, {@code uri-host[:port]} syntax (reg-name, IPv4 or IP-literal, port
 *     1-5 digits up to 65535); empty is rejected since the edge routes by it.</li>
 * <li>Content-Length: one field of 1-19 digits fitting a long. A second Content-Length is rejected even when equal
 *     (as nginx does: a repeated framing header means someone upstream or downstream may read it differently).</li>
 * <li>Transfer-Encoding: the only accepted value is one field whose value is {@code chunked} (case-insensitive, OWS
 *     trimmed). Anything else ({@code gzip}, {@code chunked, chunked}, two fields...) is 501, as RFC 9112 §6.1 says
 *     for codings we do not implement and as nginx answers. With Content-Length, or in HTTP/1.0: 400.</li>
 * <li>Trailers may not carry Content-Length, Transfer-Encoding or Host ({@code forbidden trailer}); the trailer
 *     section has the same byte and field limits as the header section.</li>
 * <li>Protocol switches: after a CONNECT request or any request with an {@code Upgrade} header (once its body is
 *     complete) the decoder parses nothing more and keeps the following bytes. After a 2xx/101 the handler removes
 *     the decoder from the pipeline, which passes those bytes on as plain {@code ByteBuf}; if it refuses the switch
 *     it calls {@link #resume()} and they are parsed as the next HTTP/1.1 request.</li>
 * </ul>
 * Each {@code decode} call stops after a request's end (its {@code LastHttpContent}), so {@link #isSingleDecode()} and the
 * pipeline see pipelined requests one at a time, in order.
 */
public final class Http1RequestDecoder extends ByteToMessageDecoder {
    /** Empty lines tolerated before a request line. */
    static final int MAX_LEADING_EMPTY_LINES = 4;
    /** Request-line bytes allowed besides the target: method, two spaces, version, CRLF. */
    static final int REQUEST_LINE_OVERHEAD = 64;
    /** Longest chunk-size line, extensions and CRLF included. */
    static final int MAX_CHUNK_LINE = 4096;

    private static final AsciiString CHUNKED = AsciiString.cached("chunked");
    /** A held partial head is moved to a smaller buffer when its buffer is at least this big and 3/4 empty. */
    private static final int SHRINK_HELD_FROM = 1024;
    private static final int MIN_HELD = 64;


    // Character classes, indexed by (b & 0xFF).
    private static final boolean[] FIELD_VALUE = new boolean[256];
    private static final boolean[] TARGET = new boolean[256];
    private static final boolean[] REG_NAME = new boolean[256];

    static {
        for (int c = '0'; c <= '9'; c++) {
            REG_NAME[c] = true;
        }
        for (int c = 'a'; c <= 'z'; c++) {
            REG_NAME[c] = true;
            REG_NAME[c - 32] = true;
        }
        // unreserved and sub-delims of RFC 3986; '%' is checked as pct-encoded separately
        for (char c : "-._~!$&'()*+,;=".toCharArray()) {
            REG_NAME[c] = true;
        }
        for (int c = 0x21; c <= 0x7E; c++) {
            FIELD_VALUE[c] = true;
            TARGET[c] = true;
        }
        for (int c = 0x80; c <= 0xFF; c++) {
            FIELD_VALUE[c] = true;
        }
        FIELD_VALUE[SP] = true;
        FIELD_VALUE[HTAB] = true;
    }

    private enum State { REQUEST_LINE, HEADERS, FIXED_BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, TRAILERS, PAUSED, REJECTED }

    private final int maxUriLength;
    private final int maxHeaderSize;
    private final int maxHeaders;

    private ChannelHandlerContext context;
    private State state = State.REQUEST_LINE;
    /** Bytes of the current, incomplete line already searched for LF, so slow senders cost linear time. */
    private int scanned;
    private int emptyLines;

    // The request being decoded.
    private HttpMethod method;
    private HttpVersion version;
    private String uri;
    private AsciiString targetAuthority;
    private HttpHeaders fields;
    private int fieldBytes;
    private int fieldCount;
    private boolean hasHost;
    private long contentLength;
    private boolean transferEncoding;
    private boolean transferEncodingChunkedOnly;
    private boolean switchesProtocol;
    private long remaining;
    // Result of parseField, kept in fields to avoid allocating a pair per header.
    private AsciiString fieldName;
    private AsciiString fieldValue;

    /**
     * @param maxUriLength  longest request-target in bytes; over it 414
     * @param maxHeaderSize longest header (or trailer) section in bytes, field lines with their line ends, request
     *                      line and final empty line excluded; over it 431
     * @param maxHeaders    most header (or trailer) fields; over it 431
     */
    private long bytesReceived;

    public Http1RequestDecoder(int maxUriLength, int maxHeaderSize, int maxHeaders) {
        if (maxUriLength < 1 || maxHeaderSize < 1 || maxHeaders < 1) {
            throw new IllegalArgumentException("limits must be positive: maxUriLength=" + maxUriLength
                    + ", maxHeaderSize=" + maxHeaderSize + ", maxHeaders=" + maxHeaders);
        }
        this.maxUriLength = maxUriLength;
        this.maxHeaderSize = maxHeaderSize;
        this.maxHeaders = maxHeaders;
        resetRequest();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        context = ctx;
        super.handlerAdded(ctx);
    }

    /** Bytes received on this connection so far (lets the connection tell a slow request head from an idle one). */
    public long bytesReceived() {
        return bytesReceived;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        // counted here rather than in a handler of its own: one pipeline hop less on every read
        if (msg instanceof ByteBuf buf) {
            bytesReceived += buf.readableBytes();
        }
        super.channelRead(ctx, msg);
        if (state == State.REQUEST_LINE || state == State.HEADERS) {
            shrinkHeldHead();
        }
    }

    /**
     * A request head that arrives in pieces stays in the buffer its first read landed in, which is sized for a full
     * read (2 KiB and up) while it holds a few dozen bytes; a slowloris client keeps it that way for the whole
     * request_header timeout, thousands of connections at once. Moving those bytes to a buffer of their own size
     * keeps a half-sent head at what was sent. Only slow heads pay the copy: a head read whole is parsed and its
     * buffer released before this runs. Never while a body piece still shares the buffer (refCnt above 1).
     */
    private void shrinkHeldHead() {
        ByteBuf held = internalBuffer();
        int readable = held.readableBytes();
        if (readable == 0 || held.capacity() < SHRINK_HELD_FROM || readable > held.capacity() / 4 || held.refCnt() != 1) {
            return;
        }
        int size = MIN_HELD;
        while (size < readable) {
            size <<= 1;
        }
        held.discardReadBytes();
        held.capacity(size);
    }

    /** Capacity of the buffer holding an incomplete message; 0 when nothing is held. */
    int heldCapacity() {
        return internalBuffer().capacity();
    }

    /**
     * Parses the bytes held since a CONNECT or Upgrade request as HTTP/1.1 again: call it when the protocol switch
     * was refused. Decodes what is already buffered right away; a no-op unless the decoder is paused.
     */
    public void resume() {
        ChannelHandlerContext ctx = context;
        if (ctx == null || ctx.isRemoved()) {
            return;
        }
        if (!ctx.executor().inEventLoop()) {
            ctx.executor().execute(this::resume);
            return;
        }
        if (state != State.PAUSED) {
            return;
        }
        state = State.REQUEST_LINE;
        try {
            // An empty read makes ByteToMessageDecoder run decode() over what it has cumulated.
            channelRead(ctx, Unpooled.EMPTY_BUFFER);
        } catch (Exception e) {
            ctx.fireExceptionCaught(e);
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        for (;;) {
            boolean more = switch (state) {
                case REQUEST_LINE -> readRequestLine(in, out);
                case HEADERS -> readHeaders(in, out);
                case FIXED_BODY, CHUNK_DATA -> readBody(in, out);
                case CHUNK_SIZE -> readChunkSize(in, out);
                case CHUNK_DATA_END -> readChunkDataEnd(in, out);
                case TRAILERS -> readTrailers(in, out);
                case PAUSED -> false;
                case REJECTED -> {
                    in.skipBytes(in.readableBytes());
                    yield false;
                }
            };
            if (!more) {
                return;
            }
        }
    }

    // ---- request line ----

    private boolean readRequestLine(ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int limit = maxUriLength + REQUEST_LINE_OVERHEAD;
        int lf = findLf(in, limit);
        if (lf < 0) {
            if (in.readableBytes() >= limit) {
                return reject(in, out, HttpResponseStatus.REQUEST_URI_TOO_LONG, "request line too long");
            }
            return false;
        }
        int end = lf > start && in.getByte(lf - 1) == CR ? lf - 1 : lf;
        if (end == start) {
            if (++emptyLines > MAX_LEADING_EMPTY_LINES) {
                return reject(in, out, HttpResponseStatus.BAD_REQUEST, "too many empty lines");
            }
            in.readerIndex(lf + 1);
            return true;
        }
        byte[] line = new byte[end - start];
        in.getBytes(start, line);
        in.readerIndex(lf + 1);
        String violation = parseRequestLine(line);
        if (violation != null) {
            HttpResponseStatus status = switch (violation) {
                case "uri too long" -> HttpResponseStatus.REQUEST_URI_TOO_LONG;
                case "unsupported version" -> HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED;
                default -> HttpResponseStatus.BAD_REQUEST;
            };
            return reject(in, out, status, violation);
        }
        fields = new FlatHttpHeaders();
        state = State.HEADERS;
        return true;
    }

    /** Fills method, uri, version (and targetAuthority); returns the violation or null. */
    private String parseRequestLine(byte[] b) {
        int n = b.length;
        int i = 0;
        while (i < n && TCHAR[b[i] & 0xFF]) {
            i++;
        }
        if (i == 0) {
            return b[0] == SP || b[0] == HTAB ? "leading whitespace" : invalid(b[0], "invalid method");
        }
        if (i == n) {
            return "invalid request line";
        }
        if (b[i] != SP) {
            return invalid(b[i], "invalid method");
        }
        int methodEnd = i;
        int targetStart = ++i;
        while (i < n && TARGET[b[i] & 0xFF]) {
            i++;
        }
        if (i == targetStart) {
            return i < n && b[i] == SP ? "multiple spaces" : i < n ? invalid(b[i], "invalid request-target")
                    : "invalid request line";
        }
        int targetEnd = i;
        if (targetEnd - targetStart > maxUriLength) {
            return "uri too long";
        }
        if (i == n) {
            return "missing version";
        }
        if (b[i] != SP) {
            return invalid(b[i], "invalid request-target");
        }
        i++;
        if (i < n && b[i] == SP) {
            return "multiple spaces";
        }
        String versionViolation = parseVersion(b, i, n);
        if (versionViolation != null) {
            return versionViolation;
        }
        method = method(b, methodEnd);
        return parseTarget(b, targetStart, targetEnd);
    }

    private String parseVersion(byte[] b, int i, int n) {
        for (int j = i; j < n; j++) {
            if (b[j] < 0x21 || b[j] == 0x7F) {
                return invalid(b[j], "invalid version");
            }
        }
        if (n - i != 8 || b[i] != 'H' || b[i + 1] != 'T' || b[i + 2] != 'T' || b[i + 3] != 'P' || b[i + 4] != '/'
                || !isDigit(b[i + 5]) || b[i + 6] != '.' || !isDigit(b[i + 7])) {
            return "invalid version";
        }
        if (b[i + 5] == '1' && b[i + 7] == '1') {
            version = HttpVersion.HTTP_1_1;
        } else if (b[i + 5] == '1' && b[i + 7] == '0') {
            version = HttpVersion.HTTP_1_0;
        } else {
            return "unsupported version";
        }
        return null;
    }

    private String parseTarget(byte[] b, int start, int end) {
        boolean connect = method == HttpMethod.CONNECT;
        byte first = b[start];
        if (first == '/' && !connect) {
            uri = new String(b, start, end - start, StandardCharsets.ISO_8859_1);
            return null;
        }
        if (first == '*' && end - start == 1 && method == HttpMethod.OPTIONS) {
            uri = "*";
            return null;
        }
        if (connect) {
            if (!validAuthority(b, start, end, true)) {
                return "invalid request-target";
            }
            uri = new String(b, start, end - start, StandardCharsets.ISO_8859_1);
            targetAuthority = new AsciiString(b, start, end - start, true);
            return null;
        }
        // absolute-form: only http and https make sense for a reverse proxy
        int schemeEnd;
        if (regionMatchesIgnoreCase(b, start, end, "http://")) {
            schemeEnd = start + 7;
        } else if (regionMatchesIgnoreCase(b, start, end, "https://")) {
            schemeEnd = start + 8;
        } else {
            return "invalid request-target";
        }
        int authorityEnd = schemeEnd;
        while (authorityEnd < end && b[authorityEnd] != '/' && b[authorityEnd] != '?' && b[authorityEnd] != '#') {
            authorityEnd++;
        }
        if (!validAuthority(b, schemeEnd, authorityEnd, false)) {
            return "invalid request-target";
        }
        targetAuthority = new AsciiString(b, schemeEnd, authorityEnd - schemeEnd, true);
        if (authorityEnd == end) {
            uri = "/";
        } else if (b[authorityEnd] == '/') {
            uri = new String(b, authorityEnd, end - authorityEnd, StandardCharsets.ISO_8859_1);
        } else {
            uri = "/" + new String(b, authorityEnd, end - authorityEnd, StandardCharsets.ISO_8859_1);
        }
        return null;
    }

    private static HttpMethod method(byte[] b, int len) {
        switch (len) {
            case 3:
                if (b[0] == 'G' && b[1] == 'E' && b[2] == 'T') {
                    return HttpMethod.GET;
                }
                if (b[0] == 'P' && b[1] == 'U' && b[2] == 'T') {
                    return HttpMethod.PUT;
                }
                break;
            case 4:
                if (b[0] == 'P' && b[1] == 'O' && b[2] == 'S' && b[3] == 'T') {
                    return HttpMethod.POST;
                }
                if (b[0] == 'H' && b[1] == 'E' && b[2] == 'A' && b[3] == 'D') {
                    return HttpMethod.HEAD;
                }
                break;
            default:
                break;
        }
        // HttpMethod.valueOf returns the constants for the other standard methods.
        return HttpMethod.valueOf(new String(b, 0, len, StandardCharsets.US_ASCII));
    }

    // ---- header and trailer sections ----

    private boolean readHeaders(ByteBuf in, List<Object> out) {
        for (;;) {
            int start = in.readerIndex();
            // A field line may use what is left of the allowance; the final empty line needs up to 2 bytes.
            int limit = Math.max(maxHeaderSize - fieldBytes, 2);
            int lf = findLf(in, limit);
            if (lf < 0) {
                if (in.readableBytes() >= limit) {
                    return reject(in, out, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "headers too large");
                }
                return false;
            }
            int end = lf > start && in.getByte(lf - 1) == CR ? lf - 1 : lf;
            if (end == start) {
                in.readerIndex(lf + 1);
                return endOfHead(in, out);
            }
            String tooLarge = countField(lf + 1 - start, "headers");
            if (tooLarge != null) {
                return reject(in, out, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, tooLarge);
            }
            String violation = readField(in, start, end, lf);
            if (violation == null) {
                violation = header(fieldName, fieldValue);
            }
            if (violation != null) {
                return reject(in, out, HttpResponseStatus.BAD_REQUEST, violation);
            }
        }
    }

    /** Records one header field; returns a violation or null. */
    private String header(AsciiString name, AsciiString value) {
        if (name == HttpHeaderNames.HOST) {
            if (hasHost) {
                return "duplicate host";
            }
            hasHost = true;
            if (!validAuthority(value.array(), value.arrayOffset(), value.arrayOffset() + value.length(), false)) {
                return "invalid host";
            }
        } else if (name == HttpHeaderNames.CONTENT_LENGTH) {
            if (contentLength >= 0) {
                return "duplicate content-length";
            }
            contentLength = parseContentLength(value);
            if (contentLength < 0) {
                return "invalid content-length";
            }
        } else if (name == HttpHeaderNames.TRANSFER_ENCODING) {
            transferEncodingChunkedOnly = !transferEncoding && value.contentEqualsIgnoreCase(CHUNKED);
            transferEncoding = true;
        } else if (name == HttpHeaderNames.UPGRADE) {
            switchesProtocol = true;
        }
        fields.add(name, value);
        return null;
    }

    private boolean endOfHead(ByteBuf in, List<Object> out) {
        if (transferEncoding && contentLength >= 0) {
            return reject(in, out, HttpResponseStatus.BAD_REQUEST, "te+cl");
        }
        if (transferEncoding && version == HttpVersion.HTTP_1_0) {
            return reject(in, out, HttpResponseStatus.BAD_REQUEST, "te in http/1.0");
        }
        if (transferEncoding && !transferEncodingChunkedOnly) {
            return reject(in, out, HttpResponseStatus.NOT_IMPLEMENTED, "unsupported transfer-encoding");
        }
        if (!hasHost && version == HttpVersion.HTTP_1_1) {
            return reject(in, out, HttpResponseStatus.BAD_REQUEST, "missing host");
        }
        if (targetAuthority != null && method != HttpMethod.CONNECT) {
            fields.set(HttpHeaderNames.HOST, targetAuthority);
        }
        if (method == HttpMethod.CONNECT) {
            switchesProtocol = true;
        }
        if (!transferEncoding && contentLength <= 0) {
            // no body (most requests): head and end in one message, one trip through the pipeline instead of two
            out.add(new DefaultFullHttpRequest(version, method, uri, Unpooled.EMPTY_BUFFER, fields, EmptyHttpHeaders.INSTANCE));
            return endOfRequest();
        }
        out.add(new DefaultHttpRequest(version, method, uri, fields));
        if (transferEncoding) {
            state = State.CHUNK_SIZE;
            return true;
        }
        remaining = contentLength;
        state = State.FIXED_BODY;
        return true;
    }

    private boolean readTrailers(ByteBuf in, List<Object> out) {
        for (;;) {
            int start = in.readerIndex();
            int limit = Math.max(maxHeaderSize - fieldBytes, 2);
            int lf = findLf(in, limit);
            if (lf < 0) {
                if (in.readableBytes() >= limit) {
                    return reject(in, out, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "trailers too large");
                }
                return false;
            }
            if (lf == start || in.getByte(lf - 1) != CR) {
                return reject(in, out, HttpResponseStatus.BAD_REQUEST, "chunk line not CRLF");
            }
            int end = lf - 1;
            if (end == start) {
                in.readerIndex(lf + 1);
                return endOfRequest(out, fields == null
                        ? LastHttpContent.EMPTY_LAST_CONTENT
                        : new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, fields));
            }
            String tooLarge = countField(lf + 1 - start, "trailers");
            if (tooLarge != null) {
                return reject(in, out, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, tooLarge);
            }
            String violation = readField(in, start, end, lf);
            if (violation != null) {
                return reject(in, out, HttpResponseStatus.BAD_REQUEST, violation);
            }
            if (fieldName == HttpHeaderNames.CONTENT_LENGTH || fieldName == HttpHeaderNames.TRANSFER_ENCODING
                    || fieldName == HttpHeaderNames.HOST) {
                return reject(in, out, HttpResponseStatus.BAD_REQUEST, "forbidden trailer");
            }
            if (fields == null) {
                fields = new FlatHttpHeaders();
            }
            fields.add(fieldName, fieldValue);
        }
    }

    /** Parses {@code name: OWS value OWS} into fieldName/fieldValue; returns a violation or null. */
    private String parseField(byte[] b) {
        int n = b.length;
        if (b[0] == SP || b[0] == HTAB) {
            return "obs-fold";
        }
        int i = 0;
        while (i < n && TCHAR[b[i] & 0xFF]) {
            i++;
        }
        if (i == n) {
            return "missing colon";
        }
        if (b[i] != ':') {
            return b[i] == SP || b[i] == HTAB ? "space before colon" : invalid(b[i], "invalid header name");
        }
        if (i == 0) {
            return "empty header name";
        }
        int nameEnd = i;
        int valueStart = i + 1;
        while (valueStart < n && (b[valueStart] == SP || b[valueStart] == HTAB)) {
            valueStart++;
        }
        int valueEnd = n;
        while (valueEnd > valueStart && (b[valueEnd - 1] == SP || b[valueEnd - 1] == HTAB)) {
            valueEnd--;
        }
        for (int j = valueStart; j < valueEnd; j++) {
            if (!FIELD_VALUE[b[j] & 0xFF]) {
                return invalid(b[j], "invalid header value");
            }
        }
        AsciiString name = KnownHeaderNames.find(b, 0, nameEnd);
        fieldName = name != null ? name : new AsciiString(b, 0, nameEnd, false);
        fieldValue = new AsciiString(b, valueStart, valueEnd - valueStart, false);
        return null;
    }

    // ---- body ----

    private boolean readBody(ByteBuf in, List<Object> out) {
        int n = (int) Math.min(remaining, in.readableBytes());
        if (n == 0) {
            return false;
        }
        out.add(new DefaultHttpContent(HttpSyntax.retainedPiece(in, n)));
        remaining -= n;
        if (remaining > 0) {
            return false;
        }
        if (state == State.CHUNK_DATA) {
            state = State.CHUNK_DATA_END;
            return true;
        }
        return endOfRequest(out, LastHttpContent.EMPTY_LAST_CONTENT);
    }

    private boolean readChunkSize(ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int lf = findLf(in, MAX_CHUNK_LINE);
        if (lf < 0) {
            if (in.readableBytes() >= MAX_CHUNK_LINE) {
                return reject(in, out, HttpResponseStatus.BAD_REQUEST, "chunk line too long");
            }
            return false;
        }
        if (lf == start || in.getByte(lf - 1) != CR) {
            return reject(in, out, HttpResponseStatus.BAD_REQUEST, "chunk line not CRLF");
        }
        byte[] line = new byte[lf - 1 - start];
        in.getBytes(start, line);
        in.readerIndex(lf + 1);
        int n = line.length;
        int i = 0;
        long size = 0;
        while (i < n && hexValue(line[i]) >= 0) {
            if (i == 16) {
                return reject(in, out, HttpResponseStatus.BAD_REQUEST, "invalid chunk size");
            }
            size = size << 4 | hexValue(line[i]);
            i++;
        }
        if (i == 0 || size < 0) {
            return reject(in, out, HttpResponseStatus.BAD_REQUEST, "invalid chunk size");
        }
        if (i < n && !validChunkExtensions(line, i, FIELD_VALUE)) {
            boolean extension = line[i] == ';' || line[i] == SP || line[i] == HTAB;
            return reject(in, out, HttpResponseStatus.BAD_REQUEST,
                    extension ? "invalid chunk extension" : "invalid chunk size");
        }
        if (size == 0) {
            fields = null;
            fieldBytes = 0;
            fieldCount = 0;
            state = State.TRAILERS;
        } else {
            remaining = size;
            state = State.CHUNK_DATA;
        }
        return true;
    }

    /**
     * Counts one field line of {@code lineBytes} against the section's limits (header section and trailers share
     * them); returns why it is over them ("headers too large", "too many trailers", …) or null.
     */
    private String countField(int lineBytes, String section) {
        if (lineBytes > maxHeaderSize - fieldBytes) {
            return section + " too large";
        }
        if (++fieldCount > maxHeaders) {
            return "too many " + section;
        }
        fieldBytes += lineBytes;
        return null;
    }

    /** Consumes the field line [start, end) ending at {@code lf} into fieldName/fieldValue; returns a violation or null. */
    private String readField(ByteBuf in, int start, int end, int lf) {
        byte[] line = new byte[end - start];
        in.getBytes(start, line);
        in.readerIndex(lf + 1);
        return parseField(line);
    }

    private boolean readChunkDataEnd(ByteBuf in, List<Object> out) {
        int available = in.readableBytes();
        int start = in.readerIndex();
        if (available >= 1 && in.getByte(start) != CR || available >= 2 && in.getByte(start + 1) != LF) {
            return reject(in, out, HttpResponseStatus.BAD_REQUEST, "missing CRLF after chunk data");
        }
        if (available < 2) {
            return false;
        }
        in.skipBytes(2);
        state = State.CHUNK_SIZE;
        return true;
    }

    // ---- shared ----

    private boolean endOfRequest(List<Object> out, LastHttpContent last) {
        out.add(last);
        return endOfRequest();
    }

    private boolean endOfRequest() {
        boolean pause = switchesProtocol;
        resetRequest();
        state = pause ? State.PAUSED : State.REQUEST_LINE;
        // Stop after each request so ByteToMessageDecoder hands it on before the next one is parsed.
        return false;
    }

    private void resetRequest() {
        emptyLines = 0;
        method = null;
        version = null;
        uri = null;
        targetAuthority = null;
        fields = null;
        fieldBytes = 0;
        fieldCount = 0;
        hasHost = false;
        contentLength = -1;
        transferEncoding = false;
        transferEncodingChunkedOnly = false;
        switchesProtocol = false;
        remaining = 0;
        fieldName = null;
        fieldValue = null;
    }

    private boolean reject(ByteBuf in, List<Object> out, HttpResponseStatus status, String reason) {
        resetRequest();
        state = State.REJECTED;
        in.skipBytes(in.readableBytes());
        out.add(new RejectedRequest(status, reason));
        return false;
    }

    /**
     * Index of the LF ending the line that starts at the reader index, searching at most {@code limit} bytes from
     * it; -1 if not there yet.
     */
    private int findLf(ByteBuf in, int limit) {
        int start = in.readerIndex();
        int from = start + scanned;
        int to = Math.min(in.writerIndex(), start + limit);
        if (from >= to) {
            return -1;
        }
        int lf = in.indexOf(from, to, LF);
        if (lf < 0) {
            scanned = to - start;
            return -1;
        }
        scanned = 0;
        return lf;
    }

    /** uri-host [ ":" port ] (RFC 3986 §3.2.2), IPvFuture excluded. */
    private static boolean validAuthority(byte[] b, int start, int end, boolean portRequired) {
        if (start >= end) {
            return false;
        }
        int i = start;
        if (b[i] == '[') {
            i++;
            int literalStart = i;
            while (i < end && b[i] != ']') {
                if (hexValue(b[i]) < 0 && b[i] != ':' && b[i] != '.') {
                    return false;
                }
                i++;
            }
            if (i == end || i == literalStart) {
                return false;
            }
            i++;
        } else {
            int hostStart = i;
            while (i < end) {
                int c = b[i] & 0xFF;
                if (REG_NAME[c]) {
                    i++;
                } else if (c == '%' && i + 2 < end && hexValue(b[i + 1]) >= 0 && hexValue(b[i + 2]) >= 0) {
                    i += 3;
                } else {
                    break;
                }
            }
            if (i == hostStart) {
                return false;
            }
        }
        if (i == end) {
            return !portRequired;
        }
        if (b[i] != ':') {
            return false;
        }
        int portStart = ++i;
        int port = 0;
        while (i < end && isDigit(b[i])) {
            if (i - portStart == 5) {
                return false;
            }
            port = port * 10 + b[i] - '0';
            i++;
        }
        return i == end && i > portStart && port <= 0xFFFF;
    }

    /** 1*DIGIT as a long; -1 if empty, not digits, or over Long.MAX_VALUE. */
    private static long parseContentLength(AsciiString value) {
        int n = value.length();
        if (n == 0) {
            return -1;
        }
        byte[] b = value.array();
        int offset = value.arrayOffset();
        long v = 0;
        for (int i = 0; i < n; i++) {
            byte c = b[offset + i];
            if (!isDigit(c)) {
                return -1;
            }
            int d = c - '0';
            if (v > (Long.MAX_VALUE - d) / 10) {
                return -1;
            }
            v = v * 10 + d;
        }
        return v;
    }

    private static boolean regionMatchesIgnoreCase(byte[] b, int start, int end, String lowerPrefix) {
        int len = lowerPrefix.length();
        if (end - start < len) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            int c = b[start + i];
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != lowerPrefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
