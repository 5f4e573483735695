package io.gatehouse.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small authoritative DNS server over UDP on 127.0.0.1 (port chosen by the system) for tests of name resolution:
 * it answers A and AAAA queries from records the test sets and changes while it runs, counts the queries per name,
 * and can be made to fail (SERVFAIL) or to stay silent (the client times out). Unknown names get NXDOMAIN.
 */
public final class TestDnsServer implements AutoCloseable {
    private record Records(List<InetAddress> addresses, int ttlSeconds) {}

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Map<String, Records> zone = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> queries = new ConcurrentHashMap<>();
    private volatile boolean failing;
    private volatile boolean silent;
    private Channel channel;

    private TestDnsServer() {}

    /** A server bound to 127.0.0.1 on a free port. */
    public static TestDnsServer start() {
        TestDnsServer s = new TestDnsServer();
        s.channel = new Bootstrap().group(s.group).channel(NioDatagramChannel.class)
                .handler(new ChannelInitializer<DatagramChannel>() {
                    @Override
                    protected void initChannel(DatagramChannel ch) {
                        ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(), s.new Answerer());
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).syncUninterruptibly().channel();
        return s;
    }

    /** Where it listens, as {@code 127.0.0.1:port}. */
    public String hostPort() {
        InetSocketAddress a = (InetSocketAddress) channel.localAddress();
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    /** Makes {@code name} answer with {@code ips} (IPv4 for A, IPv6 for AAAA queries) and this TTL. */
    public TestDnsServer set(String name, int ttlSeconds, String... ips) {
        List<InetAddress> list = new ArrayList<>();
        for (String ip : ips) {
            try {
                list.add(InetAddress.getByName(ip));   // literals only: no lookup
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException(ip, e);
            }
        }
        zone.put(key(name), new Records(List.copyOf(list), ttlSeconds));
        return this;
    }

    /** Removes {@code name}: it gets NXDOMAIN. */
    public TestDnsServer remove(String name) {
        zone.remove(key(name));
        return this;
    }

    /** While true, every query gets SERVFAIL. */
    public TestDnsServer failing(boolean failing) {
        this.failing = failing;
        return this;
    }

    /** While true, queries get no answer at all. */
    public TestDnsServer silent(boolean silent) {
        this.silent = silent;
        return this;
    }

    /** A queries received for {@code name} so far (answered or not). */
    public int queries(String name) {
        AtomicInteger n = queries.get(key(name));
        return n == null ? 0 : n.get();
    }

    private static String key(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }

    private final class Answerer extends SimpleChannelInboundHandler<DatagramDnsQuery> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
            DnsQuestion q = query.recordAt(DnsSection.QUESTION);
            if (q == null) return;
            String name = key(q.name());
            if (q.type() == DnsRecordType.A) queries.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
            if (silent) return;
            DatagramDnsResponse response = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
            response.addRecord(DnsSection.QUESTION, q);
            response.setAuthoritativeAnswer(true);
            response.setRecursionAvailable(true);
            Records records = zone.get(name);
            if (failing) {
                response.setCode(DnsResponseCode.SERVFAIL);
            } else if (records == null) {
                response.setCode(DnsResponseCode.NXDOMAIN);
            } else {
                for (InetAddress ip : records.addresses()) {
                    boolean wanted = (q.type() == DnsRecordType.A && ip instanceof Inet4Address)
                            || (q.type() == DnsRecordType.AAAA && ip instanceof Inet6Address);
                    if (wanted) {
                        response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(q.name(), q.type(),
                                records.ttlSeconds(), Unpooled.wrappedBuffer(ip.getAddress())));
                    }
                }
            }
            ctx.writeAndFlush(response);
        }
    }

    @Override
    public void close() {
        if (channel != null) channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
