"""How evenly two ways of assigning a job's files to N shards split real folders: soundcheck's
(sort the paths, take every N-th from position INDEX) against hashing each path (MD5 mod N,
the usual alternative, stable when files are added). Reports the largest shard's file count and
bytes over the mean (1.00 is perfect balance); the slowest shard sets a job array's wall time.

    python3 tools/bench/shard_balance.py FOLDER [FOLDER ...]
"""

import hashlib
import os
import sys


def files(root):
    out = []
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            if os.path.isfile(p) and not os.path.islink(p):
                out.append((p, os.path.getsize(p)))
    return out


def spread(parts):
    counts = [len(p) for p in parts]
    sizes = [sum(s for _, s in p) for p in parts]
    mean_c, mean_s = sum(counts) / len(parts), sum(sizes) / len(parts)
    return max(counts) / mean_c, max(sizes) / mean_s


def main():
    for root in sys.argv[1:]:
        fs = sorted(files(root))
        print(f"{root}: {len(fs)} files, {sum(s for _, s in fs) / 1e6:.1f} MB")
        for n in (4, 8, 16, 64):
            if n > len(fs):
                continue
            sorted_parts = [fs[i::n] for i in range(n)]
            hashed = [[] for _ in range(n)]
            for p, s in fs:
                hashed[int(hashlib.md5(p.encode()).hexdigest(), 16) % n].append((p, s))
            (sc, sb), (hc, hb) = spread(sorted_parts), spread(hashed)
            print(f"  {n:3d} shards: sorted every-Nth: files ×{sc:.2f}, bytes ×{sb:.2f};"
                  f" hashed: files ×{hc:.2f}, bytes ×{hb:.2f}")


if __name__ == "__main__":
    main()
