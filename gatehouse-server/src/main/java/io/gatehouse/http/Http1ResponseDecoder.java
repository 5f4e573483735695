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
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;

/**
 * Strict HTTP/1.1 response decoder for upstream connections (endpoint to Gatehouse), the decoder half of Netty's
 * {@code HttpClientCodec} rewritten for the hot path: it copies each response head once into one array and hands
 * out header names and values as {@link AsciiString} views of it (interned names for common headers), so decoding
 * builds no {@code String} and Netty's encoder re-encodes the values with a plain array copy.
 *
 * <h2>Which request a response answers</h2>
 * Framing depends on the request method (a response to HEAD has no body, a 2xx to CONNECT switches protocols), so
 * call {@link #expectResponseTo(HttpMethod)} before writing each request, on the channel's event loop; methods queue
 * up in order for pipelining. {@link Http1ClientCodec} does it by itself for every request it encodes. A final
 * response (status 101 or 2xx-5xx) consumes one expected method, an interim one (1xx except 101) does not, since the
 * final response to the same request follows. A response nobody said was coming is framed as a response to GET.
 *
 * <h2>Output</h2>
 * A final response whose body is complete when its head is decoded comes as one {@link FullHttpResponse} (trailers
 * {@link EmptyHttpHeaders#INSTANCE}): a response without a body (HEAD, 204, 304, {@code Content-Length: 0}) with an
 * empty buffer, a Content-Length body that arrived with its head with a retained slice of it. That is most small
 * responses, and each then takes one trip through the pipeline and the proxy instead of two.
 *
 * <p>Any other response: one {@link DefaultHttpResponse} (headers unvalidated by Netty since they were validated
 * here), then zero or more {@code HttpContent} holding retained slices of the received bytes, streamed as they arrive
 * and never aggregated, then one {@link LastHttpContent}. A Content-Length body ends with a {@code LastHttpContent}
 * carrying its final bytes (as {@code HttpClientCodec} does: one message fewer through the proxy); a chunked body with
 * {@link LastHttpContent#EMPTY_LAST_CONTENT}, or with a {@link DefaultLastHttpContent} holding the trailers. An
 * interim response (1xx but 101) and a protocol switch are a head and {@code EMPTY_LAST_CONTENT}.
 *
 * <h2>Failures</h2>
 * A malformed head yields a {@link DefaultHttpResponse} (HTTP/1.0, status 999) and a broken body framing a
 * {@link DefaultLastHttpContent} (after the head and the content decoded so far), either one with a failed
 * {@link DecoderResult} whose cause's message is a short reason ({@code "bare CR"}, {@code "invalid chunk size"},
 * ...). Every later byte on the connection is discarded. This is how {@code HttpClientCodec} signals failures.
 * A connection that closes mid-head or mid-body produces no message at all: the proxy sees {@code channelInactive}
 * (which propagates as usual) and knows the response is incomplete.
 *
 * <h2>Decisions</h2>
 * <ul>
 * <li>Status line: {@code HTTP/1.0} or {@code HTTP/1.1}, one SP, a status code from 100 to 599 (RFC 9110 §15), then
 *     SP and a reason phrase of visible characters, SP, HTAB or obs-text. A missing reason with or without its SP
 *     ({@code HTTP/1.1 200}) is accepted, as servers send it. The reason of a standard status is recognised without
 *     allocating. Up to {@value #MAX_LEADING_EMPTY_LINES} empty lines before it are skipped.</li>
 * <li>Line ends: CRLF or bare LF in the head; a CR not followed by LF, NUL and other control characters in a name or
 *     value are rejected. Chunked framing (chunk lines, the CRLF after chunk data, trailers) requires CRLF.</li>
 * <li>Field lines: a token name right before the colon (no whitespace before it: RFC 9112 §5.1 makes a proxy remove
 *     it, we reject), no obs-fold (RFC 9112 §5.2 lets a proxy reject it with a 502).</li>
 * <li>Content-Length: 1 to 19 digits fitting a long. Repeats that all carry the same value (separate fields or a
 *     list like {@code 42, 42}) are tolerated, as RFC 9110 §8.6 allows, and merged into one field so that nothing
 *     downstream sees a repeat; different values are rejected ({@code conflicting content-length}).</li>
 * <li>Transfer-Encoding: only one field whose value is {@code chunked} (case-insensitive). Other codings are
 *     rejected rather than read until close as RFC 9112 §6.3 would: the proxy could not forward them meaningfully
 *     once the header is dropped as hop-by-hop. Not allowed in an HTTP/1.0 response. With a Content-Length too,
 *     Transfer-Encoding wins and the Content-Length field is removed (RFC 9112 §6.3 rule 3), where the request
 *     decoder rejects the request: a response can only harm the one client it goes to.</li>
 * <li>No Content-Length nor Transfer-Encoding on a response that may have a body: the body runs until the
 *     connection closes; its bytes are emitted as they arrive and {@code EMPTY_LAST_CONTENT} follows on
 *     {@code channelInactive} or input shutdown. Such a connection is never reusable; the proxy also knows from the
 *     headers (an HTTP/1.1 endpoint that closes without {@code Connection: close} ends up closed in the pool anyway).
 *     </li>
 * <li>Field section: at most {@code maxHeaderSize} bytes of field lines with their line ends, status line and final
 *     empty line excluded; status line at most {@code maxStatusLineLength} bytes without its line end. Trailers share
 *     the field-section limit and may not carry Content-Length or Transfer-Encoding.</li>
 * <li>Protocol switches: after a 101 response, or a 2xx to CONNECT, the head and {@code EMPTY_LAST_CONTENT} are
 *     emitted and every later byte passes through as plain {@code ByteBuf}; removing the decoder at that point
 *     forwards the bytes it still holds (as {@link ByteToMessageDecoder} does on removal).</li>
 * </ul>
 * Each {@code decode} call stops after a response's {@code LastHttpContent}, so the pipeline sees pipelined
 * responses one at a time and can remove the decoder after a 101 before the tunnel bytes are touched.
 */
public final class Http1ResponseDecoder extends ByteToMessageDecoder {
    /** Default longest status line, as {@code HttpClientCodec}'s {@code maxInitialLineLength}. */
    public static final int DEFAULT_MAX_STATUS_LINE_LENGTH = 8192;
    /** Default largest field section (and trailer section). */
    public static final int DEFAULT_MAX_HEADER_SIZE = 64 * 1024;
    /** Largest accepted limit, so offsets never overflow. */
    static final int MAX_LIMIT = 16 * 1024 * 1024;
    /** Empty lines tolerated before a status line. */
    static final int MAX_LEADING_EMPTY_LINES = 4;
    /** Longest chunk-size line, extensions and CRLF included. */
    static final int MAX_CHUNK_LINE = 4096;

    private static final AsciiString CHUNKED = AsciiString.cached("chunked");
    /** The status of the placeholder response carrying a head failure, as {@code HttpResponseDecoder} uses. */
    static final HttpResponseStatus INVALID_STATUS = new HttpResponseStatus(999, "Unknown");


    /** Netty's status constants by code (100-599), whose reason phrases are matched without allocating. */
    private static final HttpResponseStatus[] STATUSES = new HttpResponseStatus[600];
    // Character classes, indexed by (b & 0xFF).
    private static final boolean[] FIELD_VALUE = new boolean[256];

    static {
        for (int code = 100; code < STATUSES.length; code++) {
            STATUSES[code] = HttpResponseStatus.valueOf(code);
        }
        for (int c = 0x21; c <= 0xFF; c++) {
            FIELD_VALUE[c] = c != 0x7F;
        }
        FIELD_VALUE[SP] = true;
        FIELD_VALUE[HTAB] = true;
    }

    private enum State { HEAD, FIXED_BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, TRAILERS, UNTIL_CLOSE, SWITCHED, DISCARD }

    private final int maxStatusLineLength;
    private final int maxHeaderSize;
    /** Methods of the requests sent whose final responses have not been decoded yet, oldest first. */
    private final ArrayDeque<HttpMethod> expected = new ArrayDeque<>(4);

    private State state = State.HEAD;

    // Progress through an incomplete head (or trailer line), relative to the reader index, so that a head arriving
    // in pieces is searched once in total.
    private int scanned;
    private int lineStart;
    private int fieldsStart = -1;
    private int emptyLines;
    private int fieldLines;                  // field lines seen of the head being scanned

    // The response being decoded.
    private HttpVersion version;
    private HttpResponseStatus status;
    private long contentLength;
    private boolean mergeContentLength;
    private int transferEncodings;
    private boolean chunked;
    private long remaining;
    private HttpHeaders trailers;
    private int trailerBytes;
    // Results of parseField, kept in fields to avoid allocating per field.
    private AsciiString fieldName;
    private AsciiString fieldValue;
    private String violation;

    /** A decoder with {@link #DEFAULT_MAX_STATUS_LINE_LENGTH} and {@link #DEFAULT_MAX_HEADER_SIZE}. */
    public Http1ResponseDecoder() {
        this(DEFAULT_MAX_STATUS_LINE_LENGTH, DEFAULT_MAX_HEADER_SIZE);
    }

    /**
     * @param maxStatusLineLength longest status line in bytes, line end excluded
     * @param maxHeaderSize       largest field (and trailer) section in bytes: field lines with their line ends,
     *                            status line and final empty line excluded
     */
    public Http1ResponseDecoder(int maxStatusLineLength, int maxHeaderSize) {
        if (maxStatusLineLength < 1 || maxHeaderSize < 1 || maxStatusLineLength > MAX_LIMIT
                || maxHeaderSize > MAX_LIMIT) {
            throw new IllegalArgumentException("limits must be within 1.." + MAX_LIMIT + ": maxStatusLineLength="
                    + maxStatusLineLength + ", maxHeaderSize=" + maxHeaderSize);
        }
        this.maxStatusLineLength = maxStatusLineLength;
        this.maxHeaderSize = maxHeaderSize;
        resetResponse();
    }

    /**
     * Records that a request with this method is being sent, so its response is framed right. Call it before
     * writing each request, in order, on the channel's event loop (not needed with {@link Http1ClientCodec}).
     */
    public void expectResponseTo(HttpMethod method) {
        expected.addLast(Objects.requireNonNull(method, "method"));
    }

    /** Whether a 101 or a 2xx to CONNECT was decoded: bytes now pass through undecoded. */
    boolean switchedProtocols() {
        return state == State.SWITCHED;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        for (;;) {
            boolean more = switch (state) {
                case HEAD -> readHead(in, out);
                case FIXED_BODY, CHUNK_DATA -> readBody(in, out);
                case CHUNK_SIZE -> readChunkSize(in, out);
                case CHUNK_DATA_END -> readChunkDataEnd(in, out);
                case TRAILERS -> readTrailers(in, out);
                case UNTIL_CLOSE -> {
                    out.add(new DefaultHttpContent(HttpSyntax.retainedPiece(in, in.readableBytes())));
                    yield false;
                }
                case SWITCHED -> {
                    out.add(HttpSyntax.retainedPiece(in, in.readableBytes()));
                    yield false;
                }
                case DISCARD -> {
                    in.skipBytes(in.readableBytes());
                    yield false;
                }
            };
            if (!more || !in.isReadable()) {
                return;
            }
        }
    }

    /** Ends a close-delimited body; any other response cut short by the close is left to channelInactive. */
    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        super.decodeLast(ctx, in, out);
        if (state == State.UNTIL_CLOSE) {
            out.add(LastHttpContent.EMPTY_LAST_CONTENT);
            state = State.DISCARD;
        }
    }

    // ---- head ----

    private boolean readHead(ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int available = in.writerIndex() - start;
        for (;;) {
            // The status line, or the field lines plus a final CRLF, must fit in their limits.
            int limit = fieldsStart < 0 ? maxStatusLineLength + 2 : fieldsStart + maxHeaderSize + 2;
            int to = Math.min(available, limit);
            int lf = scanned < to ? in.indexOf(start + scanned, start + to, LF) - start : -1;
            if (lf < 0) {
                scanned = Math.max(scanned, to);
                if (available >= limit) {
                    return failHead(in, out, fieldsStart < 0 ? "status line too long" : "headers too large");
                }
                return false;
            }
            scanned = lf + 1;
            int lineLength = lf - lineStart;
            boolean cr = lineLength > 0 && in.getByte(start + lf - 1) == CR;
            if (lineLength == (cr ? 1 : 0)) {
                if (fieldsStart >= 0) {
                    if (lineStart - fieldsStart > maxHeaderSize) {
                        return failHead(in, out, "headers too large");
                    }
                    return decodeHead(in, start, lf + 1, out);
                }
                if (++emptyLines > MAX_LEADING_EMPTY_LINES) {
                    return failHead(in, out, "too many empty lines");
                }
                start += lf + 1;
                available -= lf + 1;
                in.readerIndex(start);
                scanned = 0;
                continue;
            }
            if (fieldsStart < 0) {
                if (lineLength - (cr ? 1 : 0) > maxStatusLineLength) {
                    return failHead(in, out, "status line too long");
                }
                fieldsStart = lf + 1;
            } else {
                fieldLines++;
            }
            lineStart = lf + 1;
        }
    }

    private boolean decodeHead(ByteBuf in, int start, int length, List<Object> out) {
        byte[] h = new byte[length];
        in.getBytes(start, h);
        in.readerIndex(start + length);
        scanned = 0;
        lineStart = 0;
        fieldsStart = -1;
        int i = parseStatusLine(h);
        if (i < 0) {
            return failHead(in, out, violation);
        }
        // sized to the field lines, with room for the few the proxy adds (Via, X-Request-Id, a cookie): the default
        // capacity is twice what a typical response needs
        HttpHeaders fields = new FlatHttpHeaders(fieldLines + 4);
        fieldLines = 0;
        for (;;) {
            byte c = h[i];
            if (c == LF || c == CR && h[i + 1] == LF) {
                break; // the final empty line: the head scan guarantees it is the last line of h
            }
            i = parseField(h, i);
            if (i < 0) {
                return failHead(in, out, violation);
            }
            AsciiString name = fieldName;
            if (name == HttpHeaderNames.CONTENT_LENGTH) {
                long length1 = parseContentLength(fieldValue);
                if (length1 == -1) {
                    return failHead(in, out, "invalid content-length");
                }
                if (length1 == -2 || contentLength >= 0 && length1 != contentLength) {
                    return failHead(in, out, "conflicting content-length");
                }
                mergeContentLength |= contentLength >= 0 || fieldValue.indexOf(',', 0) >= 0;
                contentLength = length1;
            } else if (name == HttpHeaderNames.TRANSFER_ENCODING) {
                transferEncodings++;
                chunked = fieldValue.contentEqualsIgnoreCase(CHUNKED);
            }
            fields.add(name, fieldValue);
        }
        if (transferEncodings > 0) {
            if (transferEncodings > 1 || !chunked) {
                return failHead(in, out, "unsupported transfer-encoding");
            }
            if (version == HttpVersion.HTTP_1_0) {
                return failHead(in, out, "transfer-encoding in http/1.0");
            }
            if (contentLength >= 0) {
                fields.remove(HttpHeaderNames.CONTENT_LENGTH);
                contentLength = -1;
            }
        } else if (mergeContentLength) {
            fields.set(HttpHeaderNames.CONTENT_LENGTH, AsciiString.of(Long.toString(contentLength)));
        }
        int code = status.code();
        if (code < 200 && code != 101) {
            // interim: the final response to the same request follows
            out.add(new DefaultHttpResponse(version, status, fields));
            return endOfResponse(out, LastHttpContent.EMPTY_LAST_CONTENT);
        }
        HttpMethod method = expected.pollFirst();
        if (code == 101 || method == HttpMethod.CONNECT && code < 300) {
            out.add(new DefaultHttpResponse(version, status, fields));
            out.add(LastHttpContent.EMPTY_LAST_CONTENT);
            resetResponse();
            state = State.SWITCHED;
            return false;
        }
        if (method == HttpMethod.HEAD || code == 204 || code == 304 || !chunked && contentLength == 0) {
            return whole(out, fields, Unpooled.EMPTY_BUFFER);
        }
        if (!chunked && contentLength > 0 && in.readableBytes() >= contentLength) {
            // the body came with its head (most small responses): one message instead of two through the proxy
            return whole(out, fields, HttpSyntax.retainedPiece(in, (int) contentLength));
        }
        out.add(new DefaultHttpResponse(version, status, fields));
        if (chunked) {
            state = State.CHUNK_SIZE;
            return true;
        }
        if (contentLength > 0) {
            remaining = contentLength;
            state = State.FIXED_BODY;
            return true;
        }
        state = State.UNTIL_CLOSE;
        return true;
    }

    /** Emits a final response whose body (possibly empty) is complete as one {@link FullHttpResponse}. */
    private boolean whole(List<Object> out, HttpHeaders fields, ByteBuf body) {
        out.add(new DefaultFullHttpResponse(version, status, body, fields, EmptyHttpHeaders.INSTANCE));
        resetResponse();
        state = State.HEAD;
        return false; // stop after each response, as endOfResponse does
    }

    /** Fills version and status from the status line at the start of h; returns the index after it, or -1. */
    private int parseStatusLine(byte[] h) {
        int n = h.length;
        if (n < 12 || h[0] != 'H' || h[1] != 'T' || h[2] != 'T' || h[3] != 'P' || h[4] != '/' || !isDigit(h[5])
                || h[6] != '.' || !isDigit(h[7]) || h[8] != SP) {
            return fail("invalid status line");
        }
        if (h[5] == '1' && h[7] == '1') {
            version = HttpVersion.HTTP_1_1;
        } else if (h[5] == '1' && h[7] == '0') {
            version = HttpVersion.HTTP_1_0;
        } else {
            return fail("unsupported version");
        }
        if (!isDigit(h[9]) || !isDigit(h[10]) || !isDigit(h[11])) {
            return fail("invalid status code");
        }
        int code = (h[9] - '0') * 100 + (h[10] - '0') * 10 + h[11] - '0';
        if (code < 100 || code > 599) {
            return fail("invalid status code");
        }
        // h ends with LF and h[11] is a digit, so h[12] exists
        int i = 12;
        int reasonStart = i;
        if (h[i] == SP) {
            reasonStart = ++i;
            while (FIELD_VALUE[h[i] & 0xFF]) {
                i++;
            }
        }
        int reasonEnd = i;
        if (h[i] == CR && h[i + 1] == LF) {
            i += 2;
        } else if (h[i] == LF) {
            i++;
        } else {
            return fail(invalid(h[i], reasonStart == 12 ? "invalid status code" : "invalid reason phrase"));
        }
        HttpResponseStatus known = STATUSES[code];
        status = reasonMatches(known.reasonPhrase(), h, reasonStart, reasonEnd) ? known
                : new HttpResponseStatus(code, new String(h, reasonStart, reasonEnd - reasonStart,
                        StandardCharsets.ISO_8859_1));
        return i;
    }

    private static boolean reasonMatches(String reason, byte[] h, int start, int end) {
        if (reason.length() != end - start) {
            return false;
        }
        for (int i = start; i < end; i++) {
            if (h[i] != reason.charAt(i - start)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Parses the field line starting at i ({@code name: OWS value OWS} and CRLF or LF) into fieldName/fieldValue,
     * both views of h; returns the index after its line end, or -1 with the violation set. h must hold an LF at or
     * after i.
     */
    private int parseField(byte[] h, int i) {
        if (h[i] == SP || h[i] == HTAB) {
            return fail("obs-fold");
        }
        int nameStart = i;
        while (TCHAR[h[i] & 0xFF]) {
            i++;
        }
        if (h[i] != ':') {
            byte c = h[i];
            return fail(c == SP || c == HTAB ? "space before colon"
                    : c == LF || c == CR && h[i + 1] == LF ? "missing colon" : invalid(c, "invalid header name"));
        }
        if (i == nameStart) {
            return fail("empty header name");
        }
        int nameEnd = i++;
        while (h[i] == SP || h[i] == HTAB) {
            i++;
        }
        int valueStart = i;
        while (FIELD_VALUE[h[i] & 0xFF]) {
            i++;
        }
        int valueEnd = i;
        if (h[i] == CR && h[i + 1] == LF) {
            i += 2;
        } else if (h[i] == LF) {
            i++;
        } else {
            return fail(invalid(h[i], "invalid header value"));
        }
        while (valueEnd > valueStart && (h[valueEnd - 1] == SP || h[valueEnd - 1] == HTAB)) {
            valueEnd--;
        }
        AsciiString name = KnownHeaderNames.find(h, nameStart, nameEnd - nameStart);
        fieldName = name != null ? name : new AsciiString(h, nameStart, nameEnd - nameStart, false);
        fieldValue = new AsciiString(h, valueStart, valueEnd - valueStart, false);
        return i;
    }

    // ---- body ----

    private boolean readBody(ByteBuf in, List<Object> out) {
        int available = in.readableBytes();
        if (available == 0) {
            return false;
        }
        if (remaining > available) {
            out.add(new DefaultHttpContent(HttpSyntax.retainedPiece(in, available)));
            remaining -= available;
            return false;
        }
        ByteBuf piece = HttpSyntax.retainedPiece(in, (int) remaining);
        remaining = 0;
        if (state == State.FIXED_BODY) {
            return endOfResponse(out, new LastBodyContent(piece));
        }
        out.add(new DefaultHttpContent(piece));
        state = State.CHUNK_DATA_END;
        return true;
    }

    private boolean readChunkSize(ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int to = Math.min(in.writerIndex(), start + MAX_CHUNK_LINE);
        int from = start + scanned;
        int lf = from < to ? in.indexOf(from, to, LF) : -1;
        if (lf < 0) {
            scanned = to - start;
            if (in.readableBytes() >= MAX_CHUNK_LINE) {
                return failBody(in, out, "chunk line too long");
            }
            return false;
        }
        scanned = 0;
        if (lf == start || in.getByte(lf - 1) != CR) {
            return failBody(in, out, "chunk line not CRLF");
        }
        int end = lf - 1;
        int i = start;
        long size = 0;
        while (i < end && hexValue(in.getByte(i)) >= 0) {
            if (i - start == 16) {
                return failBody(in, out, "invalid chunk size");
            }
            size = size << 4 | hexValue(in.getByte(i));
            i++;
        }
        if (i == start || size < 0) {
            return failBody(in, out, "invalid chunk size");
        }
        if (i < end) {
            // rare: chunk extensions, validated on a copy
            byte[] ext = new byte[end - i];
            in.getBytes(i, ext);
            if (!validChunkExtensions(ext, 0, FIELD_VALUE)) {
                return failBody(in, out, ext[0] == ';' || ext[0] == SP || ext[0] == HTAB
                        ? "invalid chunk extension" : "invalid chunk size");
            }
        }
        in.readerIndex(lf + 1);
        if (size == 0) {
            trailers = null;
            trailerBytes = 0;
            state = State.TRAILERS;
        } else {
            remaining = size;
            state = State.CHUNK_DATA;
        }
        return true;
    }

    private boolean readChunkDataEnd(ByteBuf in, List<Object> out) {
        int available = in.readableBytes();
        int start = in.readerIndex();
        if (available >= 1 && in.getByte(start) != CR || available >= 2 && in.getByte(start + 1) != LF) {
            return failBody(in, out, "missing CRLF after chunk data");
        }
        if (available < 2) {
            return false;
        }
        in.skipBytes(2);
        state = State.CHUNK_SIZE;
        return true;
    }

    private boolean readTrailers(ByteBuf in, List<Object> out) {
        for (;;) {
            int start = in.readerIndex();
            int limit = Math.max(maxHeaderSize - trailerBytes, 2);
            int to = Math.min(in.writerIndex(), start + limit);
            int from = start + scanned;
            int lf = from < to ? in.indexOf(from, to, LF) : -1;
            if (lf < 0) {
                scanned = to - start;
                if (in.readableBytes() >= limit) {
                    return failBody(in, out, "trailers too large");
                }
                return false;
            }
            scanned = 0;
            if (lf == start || in.getByte(lf - 1) != CR) {
                return failBody(in, out, "chunk line not CRLF");
            }
            if (lf == start + 1) {
                in.readerIndex(lf + 1);
                HttpHeaders fields = trailers;
                return endOfResponse(out, fields == null
                        ? LastHttpContent.EMPTY_LAST_CONTENT
                        : new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, fields));
            }
            int lineBytes = lf + 1 - start;
            if (lineBytes > maxHeaderSize - trailerBytes) {
                return failBody(in, out, "trailers too large");
            }
            trailerBytes += lineBytes;
            byte[] line = new byte[lineBytes];
            in.getBytes(start, line);
            in.readerIndex(lf + 1);
            if (parseField(line, 0) < 0) {
                return failBody(in, out, violation);
            }
            if (fieldName == HttpHeaderNames.CONTENT_LENGTH || fieldName == HttpHeaderNames.TRANSFER_ENCODING) {
                return failBody(in, out, "forbidden trailer");
            }
            if (trailers == null) {
                trailers = new FlatHttpHeaders();
            }
            trailers.add(fieldName, fieldValue);
        }
    }

    // ---- shared ----

    private boolean endOfResponse(List<Object> out, LastHttpContent last) {
        out.add(last);
        resetResponse();
        state = State.HEAD;
        // Stop after each response so ByteToMessageDecoder hands it on before the next one is parsed.
        return false;
    }

    private void resetResponse() {
        scanned = 0;
        lineStart = 0;
        fieldsStart = -1;
        emptyLines = 0;
        fieldLines = 0;
        version = null;
        status = null;
        contentLength = -1;
        mergeContentLength = false;
        transferEncodings = 0;
        chunked = false;
        remaining = 0;
        trailers = null;
        trailerBytes = 0;
        fieldName = null;
        fieldValue = null;
        violation = null;
    }

    private boolean failHead(ByteBuf in, List<Object> out, String reason) {
        DefaultHttpResponse response =
                new DefaultHttpResponse(HttpVersion.HTTP_1_0, INVALID_STATUS, new FlatHttpHeaders());
        response.setDecoderResult(DecoderResult.failure(new InvalidResponseException(reason)));
        return discard(in, out, response);
    }

    private boolean failBody(ByteBuf in, List<Object> out, String reason) {
        LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, new FlatHttpHeaders());
        last.setDecoderResult(DecoderResult.failure(new InvalidResponseException(reason)));
        return discard(in, out, last);
    }

    private boolean discard(ByteBuf in, List<Object> out, Object failed) {
        resetResponse();
        state = State.DISCARD;
        in.skipBytes(in.readableBytes());
        out.add(failed);
        return false;
    }

    private int fail(String reason) {
        violation = reason;
        return -1;
    }

    /**
     * 1*DIGIT, or a list of equal ones ({@code 42, 42}), as a long; -1 if invalid (empty, not digits, over
     * Long.MAX_VALUE), -2 if the list holds different values.
     */
    static long parseContentLength(AsciiString value) {
        byte[] b = value.array();
        int i = value.arrayOffset();
        int end = i + value.length();
        long result = -1;
        for (;;) {
            int digits = i;
            long v = 0;
            while (i < end && isDigit(b[i])) {
                int d = b[i] - '0';
                if (v > (Long.MAX_VALUE - d) / 10) {
                    return -1;
                }
                v = v * 10 + d;
                i++;
            }
            if (i == digits) {
                return -1;
            }
            if (result >= 0 && v != result) {
                return -2;
            }
            result = v;
            while (i < end && (b[i] == SP || b[i] == HTAB)) {
                i++;
            }
            if (i == end) {
                return result;
            }
            if (b[i] != ',') {
                return -1;
            }
            i++;
            while (i < end && (b[i] == SP || b[i] == HTAB)) {
                i++;
            }
        }
    }

    /** Why a response was rejected; no stack trace, since any endpoint can make us build one per response. */
    static final class InvalidResponseException extends DecoderException {
        private static final long serialVersionUID = 1L;

        InvalidResponseException(String reason) {
            super(reason);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }
}
