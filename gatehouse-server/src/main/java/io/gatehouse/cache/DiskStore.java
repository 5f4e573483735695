package io.gatehouse.cache;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.CRC32C;

/**
 * The disk tier of a route's cache: one file per stored response in one directory, bounded in bytes, surviving a
 * restart.
 *
 * <p><b>File format</b> ({@code <sha-256 of the key>.obj}, big-endian), laid out so that it can be written in one pass
 * as the body arrives (nothing before the body depends on it):
 * <pre>
 *   "GHC2"            magic
 *   flags (1 byte)    bit 0: soft-purged; the only byte written in place, so outside the checksum
 *   body
 *   header            key, url, status, request/response time, Vary names and values, tags, fields, body length
 *   header length (int)
 *   CRC32C (int)      of everything from the body to the header length, computed as it is written
 * </pre>
 * A response being stored is appended to a {@code .tmp} file while its body streams in ({@link #begin}: on this
 * store's own threads, never on an event loop; the writer reads the store's growing buffer, so its queue is at most
 * one task), and the header and checksum are appended once it is complete; only then is the file renamed to its
 * name. A process killed mid-write leaves a {@code .tmp} (deleted at start), never a half file under an object's
 * name; an abandoned or too-big object deletes its {@code .tmp} at once. A file that still fails its checksum,
 * length or key on read (a torn write after a power loss, a flipped bit) is a miss: it is deleted and counted
 * ({@link #corrupt()}). No fsync, by choice: a process crash loses nothing renamed (the page cache keeps it); a power
 * loss may lose or tear recent objects, which the checksum then catches, and a cache may lose objects.
 *
 * <p><b>Index</b>: in memory, rebuilt at start by reading every file's header (not its body: the checksum is checked
 * on each read). Lookups by key ({@link #contains}) are map reads and never touch the disk; reads, writes, deletes
 * and in-place flag writes run on a small bounded executor of this store's own, never on an event loop. A full queue
 * turns a read into a miss and drops a write.
 *
 * <p><b>Eviction</b>: by bytes (file sizes), least recently used first, where "used" is the last write or disk read
 * (an access counter, also kept as the file's modification time so the order survives a restart). Hits served by the memory tier in front do not
 * touch it. Past {@code maxBytes} the oldest go until 90% of it is left.
 */
public final class DiskStore implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DiskStore.class);
    private static final byte[] MAGIC = "GHC2".getBytes(StandardCharsets.US_ASCII);
    private static final int FLAGS_OFFSET = 4, BODY_OFFSET = 5, TRAILER = 8;   // trailer: header length, CRC32C
    private static final int MAX_HEADER = 4 << 20;
    private static final String SUFFIX = ".obj", TEMP = ".tmp";

    /** What the index keeps of one file. */
    private static final class Entry {
        final String key, primary, url;
        final Path file;
        final long size;
        final List<String> vary;
        final Set<String> tags;
        volatile long used;          // the access tick of the last write or read (the order of use)
        volatile boolean invalidated;

        Entry(String key, Path file, long size, String url, List<String> vary, Set<String> tags, long used, boolean invalidated) {
            this.key = key;
            this.primary = primaryOf(key);
            this.file = file;
            this.size = size;
            this.url = url;
            this.vary = vary;
            this.tags = tags;
            this.used = used;
            this.invalidated = invalidated;
        }
    }

    /** A write queued or running: a purge meanwhile cancels it (or marks it soft-purged). */
    private record Pending(long sequence, String url, Set<String> tags, boolean[] invalidated) {}

    private final Path directory;
    private final long maxBytes;
    private final ThreadPoolExecutor io;
    private final Map<String, Entry> index = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> keysByUrl = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> keysByPrimary = new ConcurrentHashMap<>();
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicLong tick = new AtomicLong();   // orders use exactly (wall millis tie)
    private final LongAdder hits = new LongAdder(), corrupt = new LongAdder(), evictions = new LongAdder(),
            dropped = new LongAdder();

    /**
     * Opens (creating it if needed) {@code directory} and indexes the files in it; call off the event loops (it reads
     * every file's header). Leftover {@code .tmp} files and files that are not whole objects are deleted.
     */
    public DiskStore(Path directory, long maxBytes) throws IOException {
        this.directory = directory;
        this.maxBytes = maxBytes;
        Files.createDirectories(directory);
        this.io = new ThreadPoolExecutor(2, 2, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(4096), r -> {
            Thread t = new Thread(r, "gatehouse-cache-disk");
            t.setDaemon(true);
            return t;
        });
        this.io.allowCoreThreadTimeOut(true);
        scan();
        evictIfFull();
    }

    public Path directory() { return directory; }
    public long maxBytes() { return maxBytes; }
    public long bytes() { return bytes.get(); }
    public long count() { return index.size(); }
    /** Reads served from disk. */
    public long hits() { return hits.sum(); }
    /** Files that failed their checksum, length or key on read or at start, and were deleted. */
    public long corrupt() { return corrupt.sum(); }
    public long evictions() { return evictions.sum(); }
    /** Writes not done because the executor's queue was full. */
    public long dropped() { return dropped.sum(); }

    static String primaryOf(String key) {
        int nul = key.indexOf('\0');
        return nul < 0 ? key : key.substring(0, nul);
    }

    // ---- lookups (no I/O) ----

    /** Whether a file for {@code key} is indexed (a map read: safe on an event loop). */
    public boolean contains(String key) {
        return index.containsKey(key);
    }

    /** The Vary names of a response stored on disk for {@code primary}, or null when none is. */
    public List<String> varyOf(String primary) {
        Set<String> keys = keysByPrimary.get(primary);
        if (keys == null) return null;
        for (String k : keys) {
            Entry e = index.get(k);
            if (e != null) return e.vary;
        }
        return null;
    }

    // ---- reads and writes (on the executor) ----

    /**
     * Reads {@code key}'s response on the executor: null when absent, corrupt (then deleted and counted), or when the
     * executor is full. Completes on the executor's thread.
     */
    public CompletableFuture<CachedResponse> read(String key, CachePolicy policy) {
        Entry e = index.get(key);
        if (e == null) return CompletableFuture.completedFuture(null);
        CompletableFuture<CachedResponse> f = new CompletableFuture<>();
        try {
            io.execute(() -> f.complete(readNow(e, policy)));
        } catch (RejectedExecutionException full) {
            f.complete(null);
        }
        return f;
    }

    private CachedResponse readNow(Entry e, CachePolicy policy) {
        byte[] all;
        try {
            all = Files.readAllBytes(e.file);
        } catch (NoSuchFileException gone) {
            forget(e);
            return null;
        } catch (IOException failed) {
            log.warn("cache file {}: {}", e.file, failed.toString());
            return null;
        }
        Decoded d = decode(all, true);
        if (d == null || !d.key.equals(e.key)) {
            corrupt.increment();
            log.warn("cache file {} is corrupt (checksum, length or key): deleted, served as a miss", e.file);
            if (forget(e)) delete(e.file);
            return null;
        }
        if (index.get(e.key) != e) return null;   // purged or replaced while it was read
        e.used = tick.incrementAndGet();
        try {
            Files.setLastModifiedTime(e.file, FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException ignored) {
            // the access time only orders eviction after a restart
        }
        hits.increment();
        CachedResponse r = new CachedResponse(d.status, d.headers, d.body, d.requestTime, d.responseTime, d.url, d.vary,
                d.varyValues, d.tags, policy);
        if (e.invalidated || d.invalidated) r.invalidate();
        return r;
    }

    /** Writes {@code response} as {@code key} on the executor (write-through behind the memory tier). */
    public void write(String key, CachedResponse response) {
        long seq = sequence.incrementAndGet();
        Pending p = new Pending(seq, response.url(), response.tags(), new boolean[]{response.invalidated()});
        pending.put(key, p);
        try {
            io.execute(() -> writeNow(key, response, p));
        } catch (RejectedExecutionException full) {
            pending.remove(key, p);
            dropped.increment();
        }
    }

    private void writeNow(String key, CachedResponse r, Pending p) {
        Path temp = tempOf(key, p.sequence);
        byte[] encoded;
        try {
            encoded = encode(key, r, p.invalidated[0]);
            Files.write(temp, encoded);
        } catch (IOException failed) {
            log.warn("cache file {}: {}", temp, failed.toString());
            pending.remove(key, p);
            delete(temp);
            return;
        }
        commit(key, temp, encoded.length, r, p);
    }

    private Path tempOf(String key, long sequence) {
        return directory.resolve(fileOf(key).getFileName() + "." + sequence + TEMP);
    }

    /** Renames a complete, written {@code temp} to {@code key}'s name and indexes it, unless purged or replaced meanwhile. */
    private void commit(String key, Path temp, long size, CachedResponse r, Pending p) {
        Path file = fileOf(key);
        if (pending.get(key) != p) {   // purged, or written again since: this copy is not wanted
            delete(temp);
            return;
        }
        try {
            move(temp, file);   // outside the lock: event loops purge under it and must never wait for the disk
        } catch (IOException failed) {
            log.warn("cache file {}: {}", file, failed.toString());
            pending.remove(key, p);
            delete(temp);
            return;
        }
        boolean purged, soft;
        synchronized (this) {
            purged = !pending.remove(key, p);
            soft = p.invalidated[0];   // a soft purge while it was written: the file's flag says so too
            if (!purged) {
                Entry old = index.get(key);
                if (old != null) unindex(old);
                index(new Entry(key, file, size, r.url(), r.vary(), r.tags(), tick.incrementAndGet(), soft));
            }
        }
        if (soft && !purged) setFlag(file, true);
        if (purged) {
            // purged during the rename: the file must go, unless a newer write of the key now owns the name
            if (pending.get(key) == null && !index.containsKey(key)) delete(file);
            return;
        }
        evictIfFull();
    }

    /**
     * Starts writing {@code key}'s response to its {@code .tmp} file while the body arrives; call {@link Writer#append}
     * as the buffer grows, then {@link Writer#finish} or {@link Writer#abandon}.
     */
    public Writer begin(String key) {
        return new Writer(key, sequence.incrementAndGet());
    }

    /**
     * One response written as its body arrives. Its methods are called by one thread, in order (the fetch's event
     * loop); the file work runs on the store's executor, one task at a time per writer: a task writes whatever the
     * buffer holds past what is written, so the queue never holds more than one task per writer, and memory is the
     * store's buffer, already bounded by {@code max_object_size}. The checksum is computed as the bytes go out.
     */
    public final class Writer {
        private final String key;
        private final long seq;
        private final Path temp;
        private final java.util.concurrent.atomic.AtomicBoolean scheduled = new java.util.concurrent.atomic.AtomicBoolean();
        private volatile byte[] data = new byte[0];
        private volatile int available;
        private volatile CachedResponse finished;
        private volatile Pending entry;
        private volatile boolean abandoned;
        // confined to the task running
        private FileChannel channel;
        private final CRC32C crc = new CRC32C();
        private long written;
        private boolean done;

        private Writer(String key, long seq) {
            this.key = key;
            this.seq = seq;
            this.temp = tempOf(key, seq);
        }

        public String key() { return key; }

        /** {@code buffer}'s first {@code length} bytes are the body so far (bytes once given never change). */
        public void append(byte[] buffer, int length) {
            data = buffer;
            available = length;
            schedule();
        }

        /** The body is complete and {@code r} is the response: the header and checksum follow, then the rename. */
        public void finish(CachedResponse r) {
            Pending p = new Pending(seq, r.url(), r.tags(), new boolean[]{r.invalidated()});
            pending.put(key, p);
            entry = p;
            finished = r;
            schedule();
        }

        /** Not stored after all (too big, broken off, not wanted): the {@code .tmp} goes. */
        public void abandon() {
            abandoned = true;
            schedule();
        }

        private void schedule() {
            if (!scheduled.compareAndSet(false, true)) return;
            try {
                io.execute(this::drain);
            } catch (RejectedExecutionException full) {
                // the disk is far behind: this object is not written (a .tmp left now goes at the next start)
                scheduled.set(false);
                dropped.increment();
                abandoned = true;
                Pending p = entry;
                if (p != null) pending.remove(key, p);
            }
        }

        private void drain() {
            for (;;) {
                step();
                scheduled.set(false);
                if (done || !(abandoned || finished != null || available > written)) return;
                if (!scheduled.compareAndSet(false, true)) return;
            }
        }

        private void step() {
            if (done) return;
            if (abandoned) {
                end(false);
                return;
            }
            try {
                if (channel == null) {
                    channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                    writeFully(ByteBuffer.wrap(new byte[]{MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], 0}));
                }
                CachedResponse r = finished;   // before the count: once finished, the count read after it is final
                int n = available;
                byte[] d = data;
                if (n > written) {
                    crc.update(d, (int) written, (int) (n - written));
                    writeFully(ByteBuffer.wrap(d, (int) written, (int) (n - written)));
                    written = n;
                }
                if (r == null) return;
                if (written != r.body().length) throw new IOException("body of " + written + " bytes, response of " + r.body().length);
                byte[] header = header(key, r);
                ByteBuffer tail = ByteBuffer.allocate(header.length + TRAILER);
                tail.put(header).putInt(header.length);
                crc.update(tail.array(), 0, tail.position());
                tail.putInt((int) crc.getValue()).flip();
                writeFully(tail);
                long size = channel.position();
                channel.close();
                channel = null;
                done = true;
                commit(key, temp, size, r, entry);
            } catch (IOException | RuntimeException failed) {
                log.warn("cache file {}: {}", temp, failed.toString());
                end(false);
            }
        }

        private void writeFully(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) channel.write(b);
        }

        private void end(boolean kept) {
            done = true;
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // deleted next
                }
                channel = null;
            }
            if (!kept) delete(temp);
            Pending p = entry;
            if (p != null) pending.remove(key, p);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    // ---- purge ----

    /** Removes (hard) or marks stale (soft) every object of {@code url}; returns their keys. */
    public synchronized Set<String> purgeUrl(String url, boolean soft) {
        Set<String> done = new HashSet<>();
        Set<String> keys = keysByUrl.get(url);
        if (keys != null) for (String k : List.copyOf(keys)) purge(k, soft, done);
        pending.forEach((k, p) -> { if (p.url.equals(url)) purgePending(k, p, soft, done); });
        return done;
    }

    public synchronized Set<String> purgePrefix(String prefix, boolean soft) {
        Set<String> done = new HashSet<>();
        for (String url : List.copyOf(keysByUrl.keySet())) {
            if (!url.startsWith(prefix)) continue;
            Set<String> keys = keysByUrl.get(url);
            if (keys != null) for (String k : List.copyOf(keys)) purge(k, soft, done);
        }
        pending.forEach((k, p) -> { if (p.url.startsWith(prefix)) purgePending(k, p, soft, done); });
        return done;
    }

    public synchronized Set<String> purgeTag(String tag, boolean soft) {
        Set<String> done = new HashSet<>();
        for (Entry e : List.copyOf(index.values())) if (e.tags.contains(tag)) purge(e.key, soft, done);
        pending.forEach((k, p) -> { if (p.tags.contains(tag)) purgePending(k, p, soft, done); });
        return done;
    }

    private void purge(String key, boolean soft, Set<String> done) {
        Entry e = index.get(key);
        if (e == null) return;
        done.add(key);
        if (soft) {
            e.invalidated = true;
            submit(() -> setFlag(e.file, true));
        } else if (forget(e)) {
            submit(() -> delete(e.file));
        }
    }

    private void purgePending(String key, Pending p, boolean soft, Set<String> done) {
        done.add(key);
        if (soft) p.invalidated[0] = true;
        else pending.remove(key, p);
    }

    private void submit(Runnable task) {
        try {
            io.execute(task);
        } catch (RejectedExecutionException full) {
            dropped.increment();
        }
    }

    private static void setFlag(Path file, boolean invalidated) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[]{(byte) (invalidated ? 1 : 0)}), FLAGS_OFFSET);
        } catch (IOException gone) {
            // removed meanwhile: nothing left to mark
        }
    }

    // ---- index ----

    private void index(Entry e) {
        index.put(e.key, e);
        keysByUrl.computeIfAbsent(e.url, u -> ConcurrentHashMap.newKeySet()).add(e.key);
        keysByPrimary.computeIfAbsent(e.primary, u -> ConcurrentHashMap.newKeySet()).add(e.key);
        bytes.addAndGet(e.size);
    }

    /** Drops {@code e} from the index if it is still there (the file is the caller's to delete). */
    private synchronized boolean forget(Entry e) {
        if (!index.remove(e.key, e)) return false;
        unindexRest(e);
        return true;
    }

    private void unindex(Entry e) {
        if (index.remove(e.key, e)) unindexRest(e);
    }

    private void unindexRest(Entry e) {
        bytes.addAndGet(-e.size);
        keysByUrl.computeIfPresent(e.url, (u, keys) -> {
            keys.remove(e.key);
            return keys.isEmpty() ? null : keys;
        });
        keysByPrimary.computeIfPresent(e.primary, (u, keys) -> {
            keys.remove(e.key);
            return keys.isEmpty() ? null : keys;
        });
    }

    private void evictIfFull() {
        if (bytes.get() <= maxBytes) return;
        List<Entry> victims;
        synchronized (this) {
            List<Entry> all = new ArrayList<>(index.values());
            all.sort(Comparator.comparingLong(e -> e.used));
            long target = maxBytes - maxBytes / 10;
            victims = new ArrayList<>();
            for (Entry e : all) {
                if (bytes.get() <= target) break;
                if (forget(e)) victims.add(e);
            }
        }
        for (Entry e : victims) {
            delete(e.file);
            evictions.increment();
        }
    }

    private void scan() throws IOException {
        List<Entry> found = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (name.endsWith(TEMP)) {
                    delete(f);           // a write the process did not finish
                } else if (name.endsWith(SUFFIX)) {
                    Entry e = readIndexEntry(f);
                    if (e == null) {
                        corrupt.increment();
                        log.warn("cache file {} is not a whole object: deleted", f);
                        delete(f);
                    } else {
                        found.add(e);
                    }
                }
            }
        }
        // the files' modification times (last write or read) order their use across the restart
        found.sort(Comparator.comparingLong(e -> e.used));
        for (Entry e : found) {
            e.used = tick.incrementAndGet();
            Entry old = index.get(e.key);
            if (old != null) unindex(old);
            index(e);
        }
    }

    /** The index entry of a file from its header alone (length and key checked; the checksum is checked on read). */
    private Entry readIndexEntry(Path f) {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < BODY_OFFSET + TRAILER) return null;
            ByteBuffer start = ByteBuffer.allocate(BODY_OFFSET);
            if (ch.read(start, 0) < BODY_OFFSET) return null;
            start.flip();
            byte[] magic = new byte[4];
            start.get(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) return null;
            boolean invalidated = (start.get() & 1) != 0;
            ByteBuffer trailer = ByteBuffer.allocate(TRAILER);
            if (ch.read(trailer, size - TRAILER) < TRAILER) return null;
            int headerLength = trailer.getInt(0);
            if (headerLength < 0 || headerLength > MAX_HEADER || BODY_OFFSET + TRAILER + (long) headerLength > size) return null;
            ByteBuffer header = ByteBuffer.allocate(headerLength);
            if (ch.read(header, size - TRAILER - headerLength) < headerLength) return null;
            header.flip();
            Decoded d = decodeHeader(header);
            if (size != BODY_OFFSET + d.bodyLength + headerLength + TRAILER) return null;
            if (!f.getFileName().toString().equals(fileOf(d.key).getFileName().toString())) return null;
            return new Entry(d.key, f, size, d.url, d.vary, d.tags, Files.getLastModifiedTime(f).toMillis(), invalidated);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private Path fileOf(String key) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return directory.resolve(HexFormat.of().formatHex(h) + SUFFIX);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void delete(Path f) {
        try {
            Files.deleteIfExists(f);
        } catch (IOException e) {
            log.warn("cache file {}: {}", f, e.toString());
        }
    }

    // ---- encoding ----

    static byte[] encode(String key, CachedResponse r, boolean invalidated) throws IOException {
        byte[] header = header(key, r);
        byte[] body = r.body();
        ByteBuffer out = ByteBuffer.allocate(BODY_OFFSET + body.length + header.length + TRAILER);
        out.put(MAGIC).put((byte) (invalidated ? 1 : 0)).put(body).put(header).putInt(header.length);
        CRC32C crc = new CRC32C();
        crc.update(out.array(), BODY_OFFSET, out.position() - BODY_OFFSET);
        out.putInt((int) crc.getValue());
        return out.array();
    }

    /** The header of {@code r} (its body length included): what follows the body in the file. */
    static byte[] header(String key, CachedResponse r) throws IOException {
        ByteArrayOutputStream headerBytes = new ByteArrayOutputStream(512);
        DataOutputStream h = new DataOutputStream(headerBytes);
        string(h, key);
        string(h, r.url());
        h.writeInt(r.status());
        h.writeLong(r.requestTime());
        h.writeLong(r.responseTime());
        h.writeInt(r.vary().size());
        for (String v : r.vary()) string(h, v);
        string(h, r.varyValues());
        h.writeInt(r.tags().size());
        for (String t : r.tags()) string(h, t);
        List<Map.Entry<String, String>> fields = r.headers().entries();
        h.writeInt(fields.size());
        for (var f : fields) {
            string(h, f.getKey());
            string(h, f.getValue());
        }
        h.writeLong(r.body().length);
        h.flush();
        return headerBytes.toByteArray();
    }

    private static void string(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private record Decoded(String key, String url, int status, long requestTime, long responseTime, List<String> vary,
                           String varyValues, Set<String> tags, HttpHeaders headers, long bodyLength, byte[] body,
                           boolean invalidated) {}

    /** A whole file decoded and checked (magic, lengths, checksum); null when it is not a whole, intact object. */
    static Decoded decode(byte[] all, boolean withBody) {
        try {
            if (all.length < BODY_OFFSET + TRAILER) return null;
            ByteBuffer in = ByteBuffer.wrap(all);
            for (byte m : MAGIC) if (in.get() != m) return null;
            boolean invalidated = (in.get() & 1) != 0;
            int end = all.length - 4;
            int headerLength = in.getInt(end - 4);
            if (headerLength < 0 || headerLength > end - 4 - BODY_OFFSET) return null;
            CRC32C crc = new CRC32C();
            crc.update(all, BODY_OFFSET, end - BODY_OFFSET);
            if ((int) crc.getValue() != in.getInt(end)) return null;
            int headerStart = end - 4 - headerLength;
            Decoded d = decodeHeader(ByteBuffer.wrap(all, headerStart, headerLength).slice());
            if (BODY_OFFSET + d.bodyLength != headerStart) return null;
            byte[] body = withBody ? java.util.Arrays.copyOfRange(all, BODY_OFFSET, headerStart) : null;
            return new Decoded(d.key, d.url, d.status, d.requestTime, d.responseTime, d.vary, d.varyValues, d.tags,
                    d.headers, d.bodyLength, body, invalidated);
        } catch (RuntimeException malformed) {
            return null;
        }
    }

    private static Decoded decodeHeader(ByteBuffer in) {
        String key = string(in), url = string(in);
        int status = in.getInt();
        long requestTime = in.getLong(), responseTime = in.getLong();
        int nVary = count(in);
        List<String> vary = new ArrayList<>(nVary);
        for (int i = 0; i < nVary; i++) vary.add(string(in));
        String varyValues = string(in);
        int nTags = count(in);
        Set<String> tags = new LinkedHashSet<>();
        for (int i = 0; i < nTags; i++) tags.add(string(in));
        int nFields = count(in);
        HttpHeaders headers = new DefaultHttpHeaders(false);
        for (int i = 0; i < nFields; i++) headers.add(string(in), string(in));
        long bodyLength = in.getLong();
        if (bodyLength < 0) throw new IllegalArgumentException("negative body length");
        return new Decoded(key, url, status, requestTime, responseTime, vary, varyValues, tags, headers, bodyLength, null, false);
    }

    private static int count(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0 || n > in.remaining()) throw new IllegalArgumentException("bad count");
        return n;
    }

    private static String string(ByteBuffer in) {
        int n = count(in);
        byte[] b = new byte[n];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Lets queued writes finish, then stops the executor's threads. */
    @Override
    public void close() {
        io.shutdown();
    }
}
