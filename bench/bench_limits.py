#!/usr/bin/python3
"""This machine's limits, measured in the same run as a benchmark, so each figure can be put
next to what the hardware can do here and now (the machine is shared: these move with load).

  /usr/bin/python3 bench/bench_limits.py [--dir DIR] [--quick]

- SHA-1: `openssl speed -bytes 16384 sha1`, one process (per core), times the number of cores,
  and `-multi <cores>` (all cores at once, as measured).
- Loopback TCP: one plain socket pair on 127.0.0.1, a sender thread and a receiver thread with
  1 MiB buffers (the GIL is released in send/recv, so this is the kernel's copy rate).
- Disk write: a new file in DIR written in 256 KiB chunks: into the page cache (no sync) and
  the same followed by fsync (reaching the disk); and the file read back after dropping its
  own pages (posix_fadvise DONTNEED, so only this file leaves the cache, nobody else's).
All rates are MiB/s.
"""

import argparse
import os
import re
import socket
import subprocess
import threading
import time

MIB = 1024 * 1024


def cores():
    return os.cpu_count() or 1


def _openssl_sha1(seconds, multi=0):
    args = ["openssl", "speed", "-seconds", str(seconds), "-bytes", "16384"]
    if multi:
        args += ["-multi", str(multi)]
    out = subprocess.run(args + ["sha1"], capture_output=True, text=True, timeout=120).stdout
    m = re.search(r"^sha1\s+([\d.]+)k", out, re.M)
    if not m:
        raise SystemExit(f"cannot parse openssl speed output:\n{out}")
    return float(m.group(1)) * 1000 / MIB


def sha1_limits(seconds=2):
    """{'sha1_core': MiB/s of one process, 'sha1_cores': that x cores, 'sha1_multi': all
    cores at once, 'cores': n}."""
    one = _openssl_sha1(seconds)
    n = cores()
    return {"cores": n, "sha1_core": one, "sha1_cores": one * n,
            "sha1_multi": _openssl_sha1(seconds, n) if n > 1 else one}


def loopback_tcp(total_mib=2048):
    """MiB/s through one TCP connection on 127.0.0.1."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    out = socket.create_connection(srv.getsockname())
    inp, _ = srv.accept()
    srv.close()
    total = total_mib * MIB
    chunk = bytes(MIB)
    received = [0]

    def receive():
        buf = bytearray(MIB)
        while received[0] < total:
            n = inp.recv_into(buf)
            if n == 0:
                break
            received[0] += n

    t = threading.Thread(target=receive)
    start = time.perf_counter()
    t.start()
    for _ in range(total_mib):
        out.sendall(chunk)
    t.join()
    took = time.perf_counter() - start
    out.close()
    inp.close()
    return received[0] / MIB / took


def disk(directory, size_mib=512):
    """{'write_cached', 'write_synced', 'read_uncached'} MiB/s for a new file in directory."""
    path = os.path.join(directory, ".btd-bench-limits.tmp")
    chunk = os.urandom(256 * 1024)
    per_mib = MIB // len(chunk)
    res = {}
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        start = time.perf_counter()
        for _ in range(size_mib * per_mib):
            os.write(fd, chunk)
        res["write_cached"] = size_mib / (time.perf_counter() - start)
        os.fsync(fd)
        res["write_synced"] = size_mib / (time.perf_counter() - start)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
        fd = os.open(path, os.O_RDONLY)
        start = time.perf_counter()
        while os.read(fd, MIB):
            pass
        res["read_uncached"] = size_mib / (time.perf_counter() - start)
        os.close(fd)
    finally:
        if os.path.exists(path):
            os.unlink(path)
    return res


def measure(directory, quick=False):
    """Every limit; takes ~5 s (quick) to ~15 s."""
    res = sha1_limits(1 if quick else 2)
    res["tcp"] = loopback_tcp(512 if quick else 2048)
    res.update(disk(directory, 128 if quick else 512))
    res["loadavg"] = os.getloadavg()[0]
    return res


def describe(lim):
    return (f"machine limits ({lim['cores']} cores, load {lim['loadavg']:.1f}): openssl sha1 "
            f"{lim['sha1_core']:.0f} MiB/s per core, x{lim['cores']} = {lim['sha1_cores']:.0f} "
            f"(-multi {lim['sha1_multi']:.0f}); loopback TCP {lim['tcp']:.0f} MiB/s; disk write "
            f"{lim['write_cached']:.0f} MiB/s cached, {lim['write_synced']:.0f} synced, read "
            f"uncached {lim['read_uncached']:.0f}")


def of_limit(value, limit):
    """'37 % of' style text."""
    return f"{100 * value / max(limit, 1e-9):.0f} %"


def main():
    ap = argparse.ArgumentParser(description="this machine's SHA-1, loopback and disk limits")
    ap.add_argument("--dir", default=".", help="where to measure disk throughput (default .)")
    ap.add_argument("--quick", action="store_true", help="smaller transfers (~5 s)")
    args = ap.parse_args()
    print(describe(measure(args.dir, args.quick)))


if __name__ == "__main__":
    main()
