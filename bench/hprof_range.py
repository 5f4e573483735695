#!/usr/bin/env python3
# hprof_range.py HEAP.hprof LO HI: a class histogram of the objects whose address lies in [LO, HI) (hex), e.g. the
# survivor space that `jcmd PID GC.heap_info` prints. Take the dump with `jcmd PID GC.heap_dump -all FILE` (no
# collection first), and GC.heap_info just before it. HotSpot writes object ids as addresses, so the range selects
# what the last young collection left in that space (bench/results/2026-12-09-pool-churn.md).
import sys, struct, mmap, collections
fn, lo, hi = sys.argv[1], int(sys.argv[2],16), int(sys.argv[3],16)
f = open(fn,'rb'); m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
p = m.find(b'\0') + 1
idsz = struct.unpack('>I', m[p:p+4])[0]; p += 12
assert idsz == 8
strings = {}; classname = {}
cnt = collections.Counter(); size = collections.Counter()
PRIM = {2:8,4:1,5:2,6:4,7:8,8:1,9:2,10:4,11:8}
PRIMN = {4:'boolean[]',5:'char[]',6:'float[]',7:'double[]',8:'byte[]',9:'short[]',10:'int[]',11:'long[]'}
U = struct.unpack_from
n = len(m)
while p < n:
    tag = m[p]; ln = U('>I', m, p+5)[0]; body = p+9; p = body + ln
    if tag == 0x01:
        sid = U('>Q', m, body)[0]; strings[sid] = m[body+8:body+ln].decode('utf8','replace')
    elif tag == 0x02:
        _, cid, _, nid = U('>IQIQ', m, body); classname[cid] = strings.get(nid, '?')
    elif tag in (0x0C, 0x1C):
        q = body; end = body + ln
        while q < end:
            st = m[q]; q += 1
            if st == 0xFF: q += 8
            elif st == 0x01: q += 16
            elif st in (0x02, 0x03): q += 16
            elif st == 0x04: q += 12
            elif st in (0x05, 0x07): q += 8
            elif st == 0x06: q += 12
            elif st == 0x08: q += 16
            elif st == 0x20:
                cid = U('>Q', m, q)[0]; q += 8 + 4 + 8*6 + 4
                ncp = U('>H', m, q)[0]; q += 2
                for _ in range(ncp):
                    t = m[q+2]; q += 3 + (8 if t == 2 else PRIM[t])
                ns = U('>H', m, q)[0]; q += 2
                for _ in range(ns):
                    t = m[q+8]; q += 9 + (8 if t == 2 else PRIM[t])
                ni = U('>H', m, q)[0]; q += 2 + ni*9
            elif st == 0x21:
                oid, _, cid, nb = U('>QIQI', m, q); q += 24 + nb
                if lo <= oid < hi:
                    cnt[classname.get(cid, hex(cid))] += 1; size[classname.get(cid, hex(cid))] += nb + 8
            elif st == 0x22:
                oid, _, ne, cid = U('>QIIQ', m, q); q += 24 + ne*8
                if lo <= oid < hi:
                    k = classname.get(cid, hex(cid)); cnt[k] += 1; size[k] += 16 + ne*4
            elif st == 0x23:
                oid, _, ne, t = U('>QIIB', m, q); q += 17 + ne*PRIM[t]
                if lo <= oid < hi:
                    k = PRIMN[t]; cnt[k] += 1; size[k] += 16 + ne*PRIM[t]
            else:
                raise SystemExit('unknown subtag %x at %d' % (st, q))
tot = sum(size.values())
print('objects', sum(cnt.values()), 'approx bytes', tot)
for k, s in size.most_common(40):
    print('%9d %7d %s' % (s, cnt[k], k))
