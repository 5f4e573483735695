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
 * The I/O transport: native epoll where available (NIO otherwise), io_uring on request (see {@link #select}). One event-loop group
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

    /**
     * Whether a native transport can run here, and if not, why (the kernel, a sysctl, a seccomp profile...);
     * {@code caveat}: it can run, but with a known defect.
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
     * {@code auto} (epoll, else NIO), {@code epoll}, {@code io_uring} or {@code nio}.
     *
     * <p>Why not io_uring by default, although it makes far fewer syscalls (one {@code io_uring_enter} per four or five
     * requests against four syscalls each on epoll: 0.89 / 0.81 of nginx's CPU per request against epoll's 1.21 /
     * 1.08, bench/results/2026-12-05-session13.md): its stall on an endpoint reset is fixed (one-shot polls, above),
     * but in the one measurement taken it cost more memory (104 MiB at start against 92-95, 4.4-4.7 KiB per idle or
     * half-sent connection against the 4 KiB goal) and with one-shot polls its CPU advantage over epoll is not yet
     * shown (bench/results/2026-12-06-transport.md).
     */
    public static Transport select(String wanted) {
        return switch (wanted) {
            case "nio" -> nio(); // internal clusters ask for it: no native transport is loaded for nothing
            case "io_uring" -> select(wanted, Availability.ioUring(), Availability.epoll());
            default -> select(wanted, new Availability(false, null), Availability.epoll());
        };
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
            default -> epoll.available() ? epoll() : nio();
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

    /**
     * An event-loop group of {@code threads} threads (0: one per core). On epoll and NIO each I/O batch shares one
     * clock reading ({@link DispatchClock#perIoBatch}): a batch is the fixed set of events one wait returned. Not on
     * io_uring: its handler drains the completion queue until it is empty, and the kernel keeps adding completions
     * while the batch runs, so a request that arrived after the batch's reading would be timed (and rate-limited)
     * with a time from before it arrived (RateLimitTest failed so under load). There each decoded message is its own
     * dispatch, a few more clock reads per request.
     */
    public EventLoopGroup newGroup(int threads, String threadPrefix) {
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        IoHandlerFactory handlers = name.equals("io_uring") ? ioHandlerFactory : DispatchClock.perIoBatch(ioHandlerFactory);
        return new MultiThreadIoEventLoopGroup(n, new DefaultThreadFactory(threadPrefix, true), handlers);
    }


}
