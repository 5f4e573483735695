package io.gatehouse.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.stream.ChunkedInput;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

/**
 * One {@link TestBackend} connection: reads requests with {@code AUTO_READ} off, records them, and plays the chosen
 * {@link TestResponse}. Reading pauses while a response is being produced, so pipelined requests wait their turn in
 * the socket (and in {@link #backlog} for those already decoded).
 */
final class BackendHandler extends ChannelInboundHandlerAdapter {

    static final String RAW = "raw";
    static final String CODEC = "codec";
    static final String CHUNKED = "chunked";

    private static final String WS_PATH = "/ws";
    private static final int GENERATED_CHUNK = 64 * 1024;

    private enum State { IDLE, READING_BODY, ECHOING, RESPONDING, UPGRADED, CLOSING }

    private final TestBackend backend;
    private final long connectionId;
    private final ArrayDeque<Object> backlog = new ArrayDeque<>();
    private final CRC32 crc = new CRC32();

    private State state = State.IDLE;
    private int sequence;
    private HttpRequest request;
    private TestBackend.BodyMode mode;
    private boolean health;
    private boolean webSocket;
    private ByteArrayOutputStream aggregated;
    private long bodySize;
    private boolean tooLarge;
    private ChannelFuture lastEchoWrite;

    BackendHandler(TestBackend backend, long connectionId) {
        this.backend = backend;
        this.connectionId = connectionId;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.UPGRADED) {
            echoFrame(ctx, msg);
        } else if (state == State.CLOSING) {
            ReferenceCountUtil.release(msg);
        } else if (state == State.RESPONDING) {
            backlog.add(msg);
        } else {
            handle(ctx, msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        switch (state) {
            case IDLE, READING_BODY, UPGRADED -> ctx.read();
            case ECHOING -> {
                ctx.flush();
                readAfterLastEchoWrite(ctx);
            }
            default -> {
                // RESPONDING: the next read happens when the response is done; CLOSING: never.
            }
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        state = State.CLOSING;
        backlog.forEach(ReferenceCountUtil::release);
        backlog.clear();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Peers resetting connections is what this backend is for; anything else also just ends the connection.
        if (!(cause instanceof IOException)) {
            System.err.println(backend + " connection " + connectionId + ": " + cause);
        }
        ctx.close();
    }

    // ---------------------------------------------------------------- request side

    private void handle(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof HttpRequest head) {
                startRequest(ctx, head);
            }
            if (msg instanceof HttpContent content && state != State.CLOSING) {
                onContent(ctx, content);
                if (content instanceof LastHttpContent) {
                    endRequest(ctx);
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void startRequest(ChannelHandlerContext ctx, HttpRequest head) {
        if (head.decoderResult().isFailure()) {
            state = State.CLOSING;
            respondAndClose(ctx, HttpResponseStatus.BAD_REQUEST);
            return;
        }
        request = head;
        sequence++;
        bodySize = 0;
        tooLarge = false;
        crc.reset();
        String path = pathOf(head.uri());
        health = HttpMethod.GET.equals(head.method()) && path.equals("/health");
        webSocket = path.equals(WS_PATH) && head.headers().containsValue(HttpHeaderNames.UPGRADE, "websocket", true);
        mode = health || webSocket ? TestBackend.BodyMode.AGGREGATE : backend.bodyMode();
        aggregated = mode == TestBackend.BodyMode.AGGREGATE ? new ByteArrayOutputStream() : null;
        state = State.READING_BODY;

        if (HttpUtil.is100ContinueExpected(head)) {
            if (backend.rejectsExpectContinue()) {
                state = State.CLOSING;
                backend.record(recordedRequest(ctx));
                respondAndClose(ctx, HttpResponseStatus.EXPECTATION_FAILED);
                return;
            }
            writeRaw(ctx, "HTTP/1.1 100 Continue\r\n\r\n").channel().flush();
        }
        if (mode == TestBackend.BodyMode.ECHO) {
            state = State.ECHOING;
            HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            response.headers()
                    .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED)
                    .set("X-Backend", backend.name());
            String contentType = head.headers().get(HttpHeaderNames.CONTENT_TYPE);
            if (contentType != null) {
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
            }
            lastEchoWrite = ctx.writeAndFlush(response);
        }
    }

    private void onContent(ChannelHandlerContext ctx, HttpContent content) {
        ByteBuf data = content.content();
        int n = data.readableBytes();
        if (n == 0) {
            return;
        }
        bodySize += n;
        for (ByteBuffer buffer : data.nioBuffers()) {
            crc.update(buffer);
        }
        switch (mode) {
            case AGGREGATE -> {
                if (bodySize > backend.maxAggregatedBodySize()) {
                    tooLarge = true;
                    aggregated = null;
                } else {
                    byte[] bytes = new byte[n];
                    data.getBytes(data.readerIndex(), bytes);
                    aggregated.writeBytes(bytes);
                }
            }
            case ECHO -> lastEchoWrite = ctx.write(new DefaultHttpContent(data.retainedDuplicate()));
            case COUNT -> {
                // counted and check-summed above; nothing kept
            }
        }
    }

    private void endRequest(ChannelHandlerContext ctx) {
        RecordedRequest recorded = recordedRequest(ctx);
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (health) {
            backend.countHealthCheck();
            TestResponse answer = backend.isHealthy()
                    ? TestResponse.ok("ok")
                    : TestResponse.status(503).header("Content-Type", "text/plain; charset=utf-8").body("unhealthy");
            state = State.RESPONDING;
            writeResponse(ctx, answer, keepAlive);
            return;
        }
        backend.record(recorded);
        if (webSocket) {
            upgradeToWebSocket(ctx);
        } else if (mode == TestBackend.BodyMode.ECHO) {
            state = State.RESPONDING;
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(done(ctx, keepAlive));
        } else if (tooLarge) {
            state = State.CLOSING;
            respondAndClose(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
        } else {
            state = State.RESPONDING;
            writeResponse(ctx, backend.responseFor(recorded), keepAlive);
        }
    }

    private RecordedRequest recordedRequest(ChannelHandlerContext ctx) {
        HttpHeaders headers = new DefaultHttpHeaders().add(request.headers());
        byte[] body = aggregated == null ? new byte[0] : aggregated.toByteArray();
        return new RecordedRequest(request.method().name(), request.uri(), request.protocolVersion().text(),
                headers, body, bodySize, crc.getValue(), (InetSocketAddress) ctx.channel().remoteAddress(),
                connectionId, sequence);
    }

    private void readAfterLastEchoWrite(ChannelHandlerContext ctx) {
        // Read backpressure: ask for more request bytes only once the echoed ones left this process.
        ChannelFuture last = lastEchoWrite;
        if (last == null || last.isDone()) {
            ctx.read();
        } else {
            last.addListener(f -> {
                if (f.isSuccess() && state == State.ECHOING) {
                    ctx.read();
                }
            });
        }
    }

    /** The response is fully written: go on with pipelined requests, or read the next one. */
    private void responseDone(ChannelHandlerContext ctx, boolean keepAlive) {
        if (!keepAlive) {
            state = State.CLOSING;
            ctx.close();
            return;
        }
        state = State.IDLE;
        while (state != State.RESPONDING && state != State.CLOSING && !backlog.isEmpty()) {
            channelRead(ctx, backlog.poll());
        }
        if (state == State.IDLE || state == State.READING_BODY || state == State.ECHOING) {
            ctx.read();
        }
    }

    private ChannelFutureListener done(ChannelHandlerContext ctx, boolean keepAlive) {
        return f -> {
            if (f.isSuccess()) {
                responseDone(ctx, keepAlive);
            } else {
                ctx.close();
            }
        };
    }

    // ---------------------------------------------------------------- response side

    private void writeResponse(ChannelHandlerContext ctx, TestResponse response, boolean requestKeepAlive) {
        switch (response.action) {
            case RESET_BEFORE_RESPONSE -> reset(ctx);
            case CLOSE_WITHOUT_RESPONSE -> {
                state = State.CLOSING;
                ctx.close();
            }
            default -> {
                if (response.release != null) {
                    response.release.whenComplete((v, e) -> ctx.executor().execute(
                            () -> playAfterDelay(ctx, response, requestKeepAlive)));
                } else {
                    playAfterDelay(ctx, response, requestKeepAlive);
                }
            }
        }
    }

    private void playAfterDelay(ChannelHandlerContext ctx, TestResponse response, boolean requestKeepAlive) {
        if (response.headersDelay.isZero()) {
            play(ctx, response, requestKeepAlive);
        } else {
            ctx.executor().schedule(() -> play(ctx, response, requestKeepAlive),
                    response.headersDelay.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    private void play(ChannelHandlerContext ctx, TestResponse response, boolean requestKeepAlive) {
        if (!ctx.channel().isActive()) {
            return;
        }
        for (TestResponse.Interim interim : response.interims) {
            StringBuilder informational = new StringBuilder("HTTP/1.1 ").append(interim.status()).append(' ')
                    .append(HttpResponseStatus.valueOf(interim.status()).reasonPhrase()).append("\r\n");
            interim.headers().forEach(h -> informational.append(h.getKey()).append(": ").append(h.getValue())
                    .append("\r\n"));
            writeRaw(ctx, informational.append("\r\n").toString());
        }
        if (response.action == TestResponse.Action.MALFORMED) {
            state = State.CLOSING;
            writeRaw(ctx, response.raw).addListener(ChannelFutureListener.CLOSE);
            ctx.channel().flush();
            return;
        }

        boolean keepAlive = requestKeepAlive && response.keepAlive && !response.untilClose;
        boolean dying = response.action == TestResponse.Action.DIE_MID_BODY;
        long bodyLength = response.bodyLength();
        long announced = dying ? Math.max(bodyLength, response.bytesBeforeDeath + 1) : bodyLength;

        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, response.reason == null
                ? HttpResponseStatus.valueOf(response.status)
                : new HttpResponseStatus(response.status, response.reason));
        for (Map.Entry<String, String> header : response.headers) {
            head.headers().add(header.getKey(), header.getValue());
        }
        if (!response.hasHeader("X-Backend")) {
            head.headers().set("X-Backend", backend.name());
        }
        boolean framed = response.hasHeader("Content-Length") || response.hasHeader("Transfer-Encoding");
        if (!framed && !response.untilClose) {
            if (response.chunked) {
                head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            } else if (!bodyless(response.status)) {
                head.headers().set(HttpHeaderNames.CONTENT_LENGTH, announced);
            }
        }
        if (!keepAlive) {
            head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ctx.write(head);

        if (dying) {
            byte[] sent = new byte[(int) response.bytesBeforeDeath];
            int fromBody = (int) Math.min(sent.length, response.body.length);
            System.arraycopy(response.body, 0, sent, 0, fromBody);
            BodyPattern.fill(sent, fromBody, sent.length - fromBody, fromBody);
            state = State.CLOSING;
            ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(sent))).addListener(f -> reset(ctx));
        } else if (response.dripChunkSize > 0) {   // before the generated body: a generated body drips too
            ctx.flush();
            drip(ctx, response, 0, keepAlive);
        } else if (response.generatedBodyLength >= 0) {
            ctx.writeAndFlush(new HttpChunkedInput(new GeneratedBody(response.generatedBodyLength)))
                    .addListener(done(ctx, keepAlive));
        } else {
            ctx.writeAndFlush(new DefaultLastHttpContent(Unpooled.wrappedBuffer(response.body)))
                    .addListener(done(ctx, keepAlive));
        }
    }

    private void drip(ChannelHandlerContext ctx, TestResponse response, long offset, boolean keepAlive) {
        if (!ctx.channel().isActive()) {
            return;
        }
        int n = (int) Math.min(response.dripChunkSize, response.bodyLength() - offset);
        if (n <= 0) {
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(done(ctx, keepAlive));
            return;
        }
        if (response.generatedBodyLength >= 0) {
            byte[] piece = new byte[n];
            BodyPattern.fill(piece, 0, n, offset);
            ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(piece)));
        } else {
            ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(response.body, (int) offset, n)));
        }
        long next = offset + n;
        ctx.executor().schedule(() -> drip(ctx, response, next, keepAlive),
                response.dripInterval.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void respondAndClose(ChannelHandlerContext ctx, HttpResponseStatus status) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status);
        response.headers()
                .set(HttpHeaderNames.CONTENT_LENGTH, 0)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                .set("X-Backend", backend.name());
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * Writes bytes past the HTTP encoder (from the first handler's context): for malformed responses, and for 1xx
     * responses, which would otherwise consume the encoder's record of the request method (HEAD detection).
     * Everything written before went out already: the previous response completed, and nothing of this one is
     * written through the encoder before the raw part.
     */
    private static ChannelFuture writeRaw(ChannelHandlerContext ctx, String bytes) {
        return ctx.pipeline().context(RAW).write(Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1));
    }

    /** RST instead of FIN: with SO_LINGER 0 the kernel drops the connection at once. */
    private void reset(ChannelHandlerContext ctx) {
        state = State.CLOSING;
        if (ctx.channel().isActive()) {
            ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
        }
        ctx.close();
    }

    private static boolean bodyless(int status) {
        return status < 200 || status == 204 || status == 304;
    }

    private static String pathOf(String uri) {
        int query = uri.indexOf('?');
        return query < 0 ? uri : uri.substring(0, query);
    }

    // ---------------------------------------------------------------- WebSocket

    private void upgradeToWebSocket(ChannelHandlerContext ctx) {
        state = State.UPGRADED;
        ctx.pipeline().addBefore(ctx.name(), "websocket", new WebSocketServerProtocolHandler(
                WebSocketServerProtocolConfig.newBuilder()
                        .websocketPath(WS_PATH)
                        .handleCloseFrames(true)
                        .maxFramePayloadLength(16 * 1024 * 1024)
                        .build()));
        // The protocol handler wants the whole upgrade request; replay it just after the codec.
        DefaultFullHttpRequest upgrade = new DefaultFullHttpRequest(request.protocolVersion(), request.method(),
                request.uri(), Unpooled.EMPTY_BUFFER, request.headers(), EmptyHttpHeaders.INSTANCE);
        ctx.pipeline().context(CHUNKED).fireChannelRead(upgrade);
    }

    private static void echoFrame(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof TextWebSocketFrame || msg instanceof BinaryWebSocketFrame
                || msg instanceof ContinuationWebSocketFrame) {
            ctx.writeAndFlush(msg);
        } else {
            // Ping, pong and close frames are handled by WebSocketServerProtocolHandler; HTTP leftovers dropped.
            ReferenceCountUtil.release(msg);
        }
    }

    // ---------------------------------------------------------------- generated bodies

    /** {@link BodyPattern} bytes made chunk by chunk as {@code ChunkedWriteHandler} finds the channel writable. */
    private static final class GeneratedBody implements ChunkedInput<ByteBuf> {
        private final long length;
        private final byte[] scratch = new byte[GENERATED_CHUNK];
        private long offset;

        GeneratedBody(long length) {
            this.length = length;
        }

        @Override
        public boolean isEndOfInput() {
            return offset >= length;
        }

        @Override
        public void close() {
        }

        @Override
        @Deprecated
        public ByteBuf readChunk(ChannelHandlerContext ctx) {
            return readChunk(ctx.alloc());
        }

        @Override
        public ByteBuf readChunk(ByteBufAllocator allocator) {
            if (isEndOfInput()) {
                return null;
            }
            int n = (int) Math.min(GENERATED_CHUNK, length - offset);
            BodyPattern.fill(scratch, 0, n, offset);
            offset += n;
            return allocator.buffer(n).writeBytes(scratch, 0, n);
        }

        @Override
        public long length() {
            return length;
        }

        @Override
        public long progress() {
            return offset;
        }
    }
}
