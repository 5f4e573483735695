package io.gatehouse.transport;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The I/O transport: native epoll where available (NIO otherwise), io_uring on request. One event-loop group
 * serves listeners and upstream connections alike, so an upstream connection lives on the event loop of the
 * downstream connection that uses it (no locks, no cross-thread hand-off).
 */
public record Transport(String name, IoHandlerFactory ioHandlerFactory,
                        Class<? extends ServerChannel> serverChannelClass,
                        Class<? extends SocketChannel> socketChannelClass) {

    /**
     * Pooled allocator, explicitly: on JDK 25 Netty's default adaptive allocator frees memory through shared-arena
     * closes and costs 2x CPU on 16 KiB bodies (measured with the proxy benchmark harness, A/B of the two allocators).
     */
    public static final PooledByteBufAllocator ALLOCATOR = PooledByteBufAllocator.DEFAULT;

    /**
     * Bounds what one connection buffers for a slow peer before reading from the other side pauses: at most 256 KiB
     * per connection. 32/64 KiB made a 1 MiB response take many small pause/resume cycles (1.12–1.35x nginx's CPU
     * on /1m); 128/256 KiB measured at parity (bench/results/2026-11-23-watermark.tsv). Envoy's default per-connection
     * buffer limit is 1 MiB.
     */
    public static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(128 * 1024, 256 * 1024);

    /**
     * Read sizes adapt per connection between 64 B and 256 KiB (Netty's default ceiling is 64 KiB). Fewer, larger
     * reads and writes on big bodies: /1m took 620-700 µs of proxy CPU per request with 64 KiB and 405-445 with
     * 256 KiB in back-to-back runs (nginx ~450-560 on the same machine). Small messages keep small buffers.
     */
    public static final io.netty.channel.RecvByteBufAllocator RECV_ALLOCATOR =
            new io.netty.channel.AdaptiveRecvByteBufAllocator(64, 2048, 256 * 1024);

    /**
     * A bootstrap for upstream connections on {@code loop}: pooled buffers, no Nagle, TCP keep-alive, the write
     * watermarks and read sizes above, and {@code connectTimeout}. Auto-read is the caller's: off for HTTP/1.1
     * (reads follow the client's pace), on for an HTTP/2 connection (its streams pace themselves).
     */
    public io.netty.bootstrap.Bootstrap clientBootstrap(io.netty.channel.EventLoop loop, java.time.Duration connectTimeout,
                                                        boolean autoRead) {
        return new io.netty.bootstrap.Bootstrap()
                .group(loop)
                .channel(socketChannelClass())
                .option(ChannelOption.ALLOCATOR, ALLOCATOR)
                .option(ChannelOption.AUTO_READ, autoRead)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .option(ChannelOption.RCVBUF_ALLOCATOR, RECV_ALLOCATOR)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
    }

    /**
     * {@code auto} (epoll, else NIO), {@code epoll}, {@code io_uring} or {@code nio}.
     *
     * <p>Why not io_uring by default, although it is cheaper: with epoll a keep-alive request costs four socket
     * syscalls (read and write on each side), io_uring one {@code io_uring_enter} per four or five requests, and on a
     * host where each kernel entry is dear (page-table isolation without PCID) that cut the kernel time per request
     * by 13-38 % (bench/results/2026-12-05-syscalls.md). But Netty 4.2.18's io_uring channel can stall an endpoint
     * connection that was reset while its last bytes were being read: no further read is submitted, so the client's
     * truncated response is never closed (about one in two tries of that case; the same with epoll: none).
     */
    public static Transport select(String wanted) {
        return switch (wanted) {
            case "nio" -> nio();
            case "epoll" -> {
                if (!Epoll.isAvailable()) throw new IllegalStateException("transport epoll is not available: " + Epoll.unavailabilityCause());
                yield epoll();
            }
            case "io_uring" -> {
                if (!IoUring.isAvailable()) throw new IllegalStateException("transport io_uring is not available: " + IoUring.unavailabilityCause());
                yield new Transport("io_uring", IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class, IoUringSocketChannel.class);
            }
            default -> Epoll.isAvailable() ? epoll() : nio();
        };
    }

    private static Transport epoll() {
        return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class, EpollSocketChannel.class);
    }

    private static Transport nio() {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
    }

    /** An event-loop group of {@code threads} threads (0: one per core). */
    public EventLoopGroup newGroup(int threads, String threadPrefix) {
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        return new MultiThreadIoEventLoopGroup(n, new DefaultThreadFactory(threadPrefix, true),
                DispatchClock.perIoBatch(ioHandlerFactory));
    }


}
