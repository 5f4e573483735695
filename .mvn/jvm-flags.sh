# Sourced by ./gatehouse and the bench/ scripts: the JVM flags Gatehouse runs with, in one place, so that what is
# benchmarked is what ships. `gatehouse_jvm_flags` fills the array GATEHOUSE_JVM_FLAGS for the JDK in $JAVA_HOME
# (gatehouse_java_major comes from find-jdk.sh).
gatehouse_jvm_flags() {
  local major
  major=$(gatehouse_java_major "$JAVA_HOME")
  GATEHOUSE_JVM_FLAGS=(
    # Netty's pooled allocator: on JDK 25 Netty 4.2 runs without sun.misc.Unsafe and its default adaptive allocator
    # then frees memory through shared-arena closes that stop every thread (2x the CPU on 16 KiB bodies, measured in
    # an A/B of the two allocators under the proxy benchmark). Harmless on JDK 21.
    -Dio.netty.allocator.type=pooled
    # io_uring (the default transport where the kernel allows it) with one-shot polls: Netty 4.2.18's multishot poll
    # can miss an endpoint's reset after its last bytes and leave the client's response open (Transport's Javadoc).
    # Transport sets it too; here so that nothing that loads Netty's io_uring first can undo it.
    -Dio.netty.iouring.pollAddMultishotEnabled=false
    # A proxy's heap holds config, routing tables and short-lived request objects; bodies live in pooled direct
    # buffers (bounded by -Xmx too unless -XX:MaxDirectMemorySize is given). 64 MiB to start keeps RSS small.
    -Xms64m -Xmx512m
    # The young generation starts at 10 MiB (eden 8) instead of a third of -Xms (eden 17). Start-up allocates ~55 MiB
    # of short-lived objects (class loading, config binding), so a 17 MiB eden is touched to its end before the first
    # request and stays resident: 9 MiB of base RSS. The cost is 2-3x the young collections, each shorter: +0.04-0.09 us
    # of GC per request (0.1-0.3 %, GC log under the benchmark; bench/results/2026-12-06-base-rss.md). Serial sizes
    # the young generation from the old one after each full collection, so a heap that grows gets a young gen to match.
    -XX:NewSize=10m
    # GC: Serial. G1's own structures (remembered sets, marking bitmaps, card tables sized for -Xmx) cost 12 MiB of
    # RSS at start and 26 MiB after traffic (bench/results/2026-12-04-memory.md). A proxy's young collections are
    # short: its request objects die young and the live set is a few MiB (0.5 ms each, measured in session 9). The
    # CPU figures in bench/results were all measured with Serial (the benchmark pins the proxy to one CPU, where the
    # JVM picks it anyway), so this is what was measured. For large heaps on many cores: GATEHOUSE_JAVA_OPTS=-XX:+UseG1GC.
    -XX:+UseSerialGC
    # Metaspace: the JVM's first threshold (~21 MiB) is reached a minute or so into serving, as the JIT's profiles
    # fill metaspace, and crossing it costs a full collection (22 ms on one core, measured: the longest pause of a
    # run). Gatehouse loads no classes at run time worth unloading, so the first threshold is set above its use.
    -XX:MetaspaceSize=64m
    # A server that ran out of memory should restart, not limp on in an unknown state.
    -XX:+ExitOnOutOfMemoryError
    # Use the JDK's class-data archive when it is there, never fail when it is not. An application archive
    # (-XX:+AutoCreateSharedArchive on 21, -XX:AOTCache on 25) was tried: start-up gain lost in the noise (~1 s either
    # way), hundreds of [cds] warnings on JDK 25 and a stale-archive error after each rebuild. Not worth it yet.
    -Xshare:auto
    # Netty loads its native epoll/io_uring transport: allowed explicitly, so the JDK does not warn at every start
    --enable-native-access=ALL-UNNAMED
    # Netty's leak detector samples buffer allocations with a stack trace each: a debugging aid with a cost on every
    # request (7,000 trace records in 25 s of load, measured). Tests run it at paranoid level; a server does not.
    -Dio.netty.leakDetection.level=disabled
  )
  # From JDK 25 Netty stops using sun.misc.Unsafe unless the JVM allows it (JEP 471/498), and direct-buffer access
  # then goes through bounds-checked memory segments on every byte copy. Allowing it keeps the fast path. The flag
  # exists from JDK 23 on; older JDKs use Unsafe anyway and would refuse to start with it.
  if [ "$major" -ge 23 ]; then
    GATEHOUSE_JVM_FLAGS+=(--sun-misc-unsafe-memory-access=allow)
  fi
  # Give back to the OS, every 5 s, the C heap the JVM freed (the JIT compilers' arenas peak during warm-up, then
  # glibc keeps the pages): 3-8 MiB less RSS at start, and memory freed after a burst goes back. A malloc_trim every
  # 5 s takes well under a millisecond on a heap this size. A product flag from JDK 22 on.
  if [ "$major" -ge 22 ]; then
    GATEHOUSE_JVM_FLAGS+=(-XX:TrimNativeHeapInterval=5000)
  fi
  # JDK 25's compact object headers (JEP 519, a product flag there): 8-byte headers instead of 12, so a request's
  # objects are smaller and young collections rarer. Measured: -4 % CPU per request on 100-byte responses, -6 % on
  # 16 KiB, in three interleaved A/B pairs (bench/results/2026-11-24-session4.md). The JDK ships a matching CDS archive.
  if [ "$major" -ge 25 ]; then
    GATEHOUSE_JVM_FLAGS+=(-XX:+UseCompactObjectHeaders)
  fi
}
