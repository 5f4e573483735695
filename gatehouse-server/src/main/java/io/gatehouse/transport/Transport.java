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
 * The I/O transport: io_uring where the kernel allows it, else native epoll, else NIO (see {@link #select}). One event-loop group
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
     * Netty's switch for io_uring's multishot {@code POLL_ADD}, turned off here before Netty's io_uring classes load
     * (this class is loaded first; {@code .mvn/jvm-flags.sh} and the tests pass it too). Why: a multishot poll is
     * edge-triggered. With Netty 4.2.18, when an endpoint sends its last bytes and then resets, the one poll event for
     * the reset can arrive while a read is in flight; that read loop stops when the socket has no more <em>data</em>
     * (the kernel's {@code IORING_CQE_F_SOCK_NONEMPTY} says nothing of a pending error or EOF), and the next
     * {@code read()} finds the multishot poll still armed and waits for an edge that never comes. The client's
     * truncated response then stayed open until the idle timeout (12 of 30 tries of that case hung; with one-shot
     * polls, which are re-armed level-triggered on every {@code read()}, 30 of 30 closed at once:
     * bench/results/2026-12-06-transport.md). Netty 4.2.21's classes have the same poll handling.
     */
    public static final String MULTISHOT_POLL_PROPERTY = "io.netty.iouring.pollAddMultishotEnabled";

    static {
        if (System.getProperty(MULTISHOT_POLL_PROPERTY) == null) System.setProperty(MULTISHOT_POLL_PROPERTY, "false");
    }

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Transport.class);
    private static final java.util.concurrent.atomic.AtomicBoolean FALLBACK_LOGGED = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Whether a native transport can run here, and if not, why (the kernel, a sysctl, a seccomp profile...);
     * {@code caveat}: it can run but is not safe to pick by default.
     */
    record Availability(boolean available, Throwable cause, String caveat) {
        Availability(boolean available, Throwable cause) {
            this(available, cause, null);
        }

        static Availability ioUring() {
            if (!IoUring.isAvailable()) return new Availability(false, IoUring.unavailabilityCause());
            return new Availability(true, null, IoUring.isPollAddMultishotEnabled() ? MULTISHOT_POLL_PROPERTY
                    + " is on (set to true, or Netty's io_uring loaded before Gatehouse): an endpoint that resets"
                    + " mid-response can leave the client's response open" : null);
        }

        static Availability epoll() {
            return Epoll.isAvailable() ? new Availability(true, null) : new Availability(false, Epoll.unavailabilityCause());
        }
    }

    /**
     * {@code auto} (io_uring, else epoll, else NIO), {@code epoll}, {@code io_uring} or {@code nio}.
     *
     * <p>Why io_uring first: with epoll a keep-alive request costs four socket syscalls (read and write on each side),
     * io_uring one {@code io_uring_enter} per four or five requests, and on a host where each kernel entry is dear
     * (page-table isolation without PCID) that cut the proxy's CPU per request by 10-25 %
     * (bench/results/2026-12-05-syscalls.md, 2026-12-06-transport.md). Where io_uring cannot run (kernel before
     * 5.x, {@code kernel.io_uring_disabled}, Docker's default seccomp profile, which refuses {@code io_uring_setup})
     * Netty's probe fails and {@code auto} falls back to epoll, saying why once per process.
     */
    public static Transport select(String wanted) {
        // nio needs no probe: internal clusters ask for it and must not load the native transports for nothing
        return wanted.equals("nio") ? nio() : select(wanted, Availability.ioUring(), Availability.epoll());
    }

    static Transport select(String wanted, Availability ioUring, Availability epoll) {
        return switch (wanted) {
            case "nio" -> nio();
            case "epoll" -> {
                if (!epoll.available()) throw new IllegalStateException("transport epoll is not available: " + epoll.cause());
                yield epoll();
            }
            case "io_uring" -> {
                if (!ioUring.available()) throw new IllegalStateException("transport io_uring is not available: " + ioUring.cause());
                if (ioUring.caveat() != null) log.warn("transport io_uring: {}", ioUring.caveat());
                yield ioUring();
            }
            default -> {
                if (ioUring.available() && ioUring.caveat() == null) yield ioUring();
                Transport fallback = epoll.available() ? epoll() : nio();
                if (FALLBACK_LOGGED.compareAndSet(false, true)) {
                    log.info("transport auto: io_uring {}, using {}", ioUring.available() ? "not chosen: " + ioUring.caveat()
                            : "is not available here (" + ioUring.cause() + ")", fallback.name());
                }
                yield fallback;
            }
        };
    }

    private static Transport ioUring() {
        return new Transport("io_uring", IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class, IoUringSocketChannel.class);
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
