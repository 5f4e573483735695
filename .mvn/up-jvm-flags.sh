# Sourced by ./gatehouse (for `gatehouse up` only) and bench/system-bench.sh: the JVM flags of `up`, on top of the
# plain proxy's from jvm-flags.sh. `up` is a different workload in one JVM: the edge, three app instances (Helidon,
# Lettuce, HikariCP, Curator) and ZooKeeper share one heap and, in the benchmark, one core; its tail latency is the
# issue-18 goal (p99 <= 5 ms at 70 % of the highest clean rate). The proxy's own flags stay as the proxy benchmark
# measured them (its CPU per request must not move): only `up` gets these.
#
# `gatehouse_up_jvm_flags` edits the array GATEHOUSE_JVM_FLAGS that gatehouse_jvm_flags filled: it drops the heap,
# young generation, collector and metaspace flags and puts up's in their place, and drops the native-heap trim.
gatehouse_up_jvm_flags() {
  local kept=() f
  for f in "${GATEHOUSE_JVM_FLAGS[@]}"; do
    case "$f" in
      -XX:+Use*GC|-Xms*|-Xmx*|-Xmn*|-XX:NewSize=*|-XX:MaxNewSize=*|-XX:MetaspaceSize=*) ;;
      # The proxy trims the C heap every 5 s (well under 1 ms there). In up, with three app instances, JDBC and
      # ZooKeeper in one JVM, one trim ran for 13.3 ms of CPU in chunks of up to 3.9 ms (perf sched, 2026-12-05),
      # every 5 s, on the core the requests need: a stall the p99 sees. Without it the banner's RSS is the same
      # within run-to-run spread (832-857 MiB against 812-843).
      -XX:TrimNativeHeapInterval=*) ;;
      *) kept+=("$f") ;;
    esac
  done
  GATEHOUSE_JVM_FLAGS=("${kept[@]}"
    # Serial, with a fixed young generation of 256 MiB (eden ~205 MiB). At 2,450 redirects/s `up` allocates ~30 MB/s;
    # with the proxy's sizing (young = 1/3 of a heap that starts at 64 MiB) eden was 17-70 MiB: a young pause every
    # 0.6-2.5 s, ten in a 25 s window (bench/results/2026-12-05-system-quiet2.txt), and every request due during a
    # pause waits for it and for the queue behind it. A fixed, larger eden collects about every 7 s instead, and a young
    # pause costs what survives (a few MiB of in-flight requests and buffers), not the eden's size. Serial rather than
    # Parallel, G1 or ZGC: in the benchmark `up` is pinned to one core, where their parallel and concurrent work has no
    # second core to run on and competes with the requests; bench/system-gc.sh compares them (the attempt of
    # 2026-12-06 was drowned by other builds on the machine: bench/results/2026-12-06-system-p99.md). The cost is RSS:
    # eden's pages all get touched, about +100-150 MiB, well inside the system's 1.5 GiB (UpProcessIT asserts it).
    -XX:+UseSerialGC -Xms384m -Xmx768m -Xmn256m
    # up loads ~13,000 classes in ~460 loaders (Helidon, ZooKeeper, JDBC, Lettuce, lambda forms): 64 MiB of metaspace
    # three minutes in, so the proxy's 64 MiB first threshold cost a full collection (79-409 ms, measured) about
    # 35 s after start, under load. Its threshold is set above that.
    -XX:MetaspaceSize=160m
  )
}
