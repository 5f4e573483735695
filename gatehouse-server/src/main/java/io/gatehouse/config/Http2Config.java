package io.gatehouse.config;

import java.time.Duration;

/**
 * HTTP/2 on a listener's client side: which connections speak it, the SETTINGS Gatehouse announces, and the bounds
 * that protect it from abusive clients (rapid reset, frame floods, stalled windows). Over a flood bound the
 * connection gets GOAWAY {@code ENHANCE_YOUR_CALM} and is closed.
 *
 * @param enabled                 offer {@code h2} through ALPN on a TLS listener (default true)
 * @param h2c                     accept HTTP/2 with prior knowledge on a cleartext listener: a connection that starts
 *                                with the HTTP/2 preface speaks HTTP/2, any other speaks HTTP/1.1 (default false)
 * @param maxConcurrentStreams    streams a client may have open at once; beyond: RST_STREAM REFUSED_STREAM
 * @param initialWindowSize       per-stream receive window: request body bytes a client may send ahead of what the
 *                                upstream took (bounds what a stream buffers)
 * @param connectionWindowSize    connection receive window: request body bytes buffered for all streams together
 * @param maxFrameSize            largest frame payload accepted (16 KiB to 16 MiB - 1)
 * @param maxHeaderListSize       decoded header bytes of one request (HPACK bombs included); over it: 431, and a
 *                                header block far over it (CONTINUATION floods) ends the connection
 * @param maxResetsPerWindow      RST_STREAMs a client may send (rapid reset), and stream errors it may cause, per
 *                                {@code floodWindow}
 * @param maxControlFramesPerWindow SETTINGS, PING and PRIORITY frames a client may send per {@code floodWindow}
 * @param maxEmptyFrames          consecutive DATA frames without payload nor END_STREAM allowed
 * @param maxQueuedControlFrames  control frames (SETTINGS/PING acks, resets) queued for a client that does not read
 * @param floodWindow             the window the per-window counts are taken over
 * @param sendTimeout             a stream whose response cannot progress (the client's flow-control window stays
 *                                closed) for this long is reset
 */
public record Http2Config(
        Boolean enabled,
        boolean h2c,
        int maxConcurrentStreams,
        long initialWindowSize,
        long connectionWindowSize,
        long maxFrameSize,
        long maxHeaderListSize,
        int maxResetsPerWindow,
        int maxControlFramesPerWindow,
        int maxEmptyFrames,
        int maxQueuedControlFrames,
        Duration floodWindow,
        Duration sendTimeout) {

    public static final Http2Config DEFAULT = new Http2Config(null, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, null, null);

    private static final long MAX_WINDOW = Integer.MAX_VALUE;

    public Http2Config {
        enabled = enabled == null ? Boolean.TRUE : enabled;
        maxConcurrentStreams = maxConcurrentStreams == 0 ? 100 : maxConcurrentStreams;
        initialWindowSize = initialWindowSize == 0 ? 65_535 : initialWindowSize;
        connectionWindowSize = connectionWindowSize == 0 ? 1 << 20 : connectionWindowSize;
        maxFrameSize = maxFrameSize == 0 ? 16_384 : maxFrameSize;
        maxHeaderListSize = maxHeaderListSize == 0 ? 16_384 : maxHeaderListSize;
        maxResetsPerWindow = maxResetsPerWindow == 0 ? 200 : maxResetsPerWindow;
        maxControlFramesPerWindow = maxControlFramesPerWindow == 0 ? 1000 : maxControlFramesPerWindow;
        maxEmptyFrames = maxEmptyFrames == 0 ? 2 : maxEmptyFrames;
        maxQueuedControlFrames = maxQueuedControlFrames == 0 ? 10_000 : maxQueuedControlFrames;
        floodWindow = floodWindow == null ? Duration.ofSeconds(30) : floodWindow;
        sendTimeout = sendTimeout == null ? Duration.ofSeconds(30) : sendTimeout;
        if (maxConcurrentStreams < 1) throw new IllegalArgumentException("max_concurrent_streams: must be >= 1");
        if (initialWindowSize < 1 || initialWindowSize > MAX_WINDOW) {
            throw new IllegalArgumentException("initial_window_size: must be between 1 and 2147483647 bytes");
        }
        if (connectionWindowSize < 65_535 || connectionWindowSize > MAX_WINDOW) {
            throw new IllegalArgumentException("connection_window_size: must be between 65535 and 2147483647 bytes");
        }
        if (maxFrameSize < 16_384 || maxFrameSize > 16_777_215) {
            throw new IllegalArgumentException("max_frame_size: must be between 16KiB and 16777215 bytes");
        }
        if (maxHeaderListSize < 1024 || maxHeaderListSize > MAX_WINDOW) {
            throw new IllegalArgumentException("max_header_list_size: must be at least 1KiB");
        }
        if (maxResetsPerWindow < 1) throw new IllegalArgumentException("max_resets_per_window: must be >= 1");
        if (maxControlFramesPerWindow < 1) throw new IllegalArgumentException("max_control_frames_per_window: must be >= 1");
        if (maxEmptyFrames < 1) throw new IllegalArgumentException("max_empty_frames: must be >= 1");
        if (maxQueuedControlFrames < 1) throw new IllegalArgumentException("max_queued_control_frames: must be >= 1");
        if (floodWindow.compareTo(Duration.ofSeconds(1)) < 0) throw new IllegalArgumentException("flood_window: must be at least 1s");
        if (sendTimeout.isNegative() || sendTimeout.isZero()) throw new IllegalArgumentException("send_timeout: must be > 0");
    }
}
