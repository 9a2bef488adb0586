#!/usr/bin/python3
"""Many loaded, paused torrents: btd vs Debian's transmission-daemon, side by side.

  /usr/bin/python3 bench/bench_scale.py [--counts 1000,10000] [--list-calls 20] [--idle-s 60]
                                        [--quick] [--json FILE]

For each count, both daemons run at the same time (fresh state/config dirs, RPC and peer ports
on 127.0.0.1, Transmission started as `transmission-daemon -f -g DIR`, never its system
service) and get the same generated torrents (1 file each, 4-64 MiB, 256 KiB pieces, announce
URL http://127.0.0.1:1/announce; no data on disk, and nothing is ever started):
  - add rate: `torrent.add {path, paused}` / `torrent-add {filename, paused}`, alternating one
    to each daemon, each on one keep-alive connection; torrents per second of each one's time;
  - RSS (VmRSS, RssAnon) 5 s after the last add;
  - CPU per full list: `--list-calls` calls alternating between the daemons, the daemon's own
    on-CPU time (schedstat of every thread) summed around its calls. Transmission gets `torrent-get`
    with the six fields its clients poll for (id, name, status, percentDone, rateDownload,
    rateUpload), btd `torrent.list` with the same six (id, name, state, progress,
    download_rate, upload_rate), and btd's own Transmission route the same torrent-get;
  - idle CPU over `--idle-s` seconds (both daemons idle at the same time);
  - restart: SIGTERM, start again with the same dirs, time from spawn until a list returns every
    torrent (btd first, then Transmission), and RSS after that.
Targets (issue 9, 10,000 torrents): RSS <= 0.8x Transmission's; list CPU <= 0.5x; idle CPU
< 0.2 %; restart < 1 s.
"""

import argparse
import base64
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import time

import bench_daemon as D
from bench_common import H

DEAD_TRACKER = b"http://127.0.0.1:1/announce"
TR_FIELDS = ["id", "name", "status", "percentDone", "rateDownload", "rateUpload"]
BTD_FIELDS = ["id", "name", "state", "progress", "download_rate", "upload_rate"]


def parse_args():
    ap = argparse.ArgumentParser(description="btd vs transmission-daemon, many paused torrents")
    ap.add_argument("--counts", default="1000,10000", help="comma-separated (default 1000,10000)")
    ap.add_argument("--list-calls", type=int, default=20, help="list calls per daemon")
    ap.add_argument("--idle-s", type=float, default=60, help="idle CPU window (default 60)")
    ap.add_argument("--quick", action="store_true", help="200 torrents, 5 calls, 10 s idle")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    args = ap.parse_args()
    if args.quick:
        args.counts, args.list_calls, args.idle_s = "200", 5, 10
    args.counts = [int(c) for c in args.counts.split(",")]
    return args


def bencode(x):
    if isinstance(x, int):
        return b"i%de" % x
    if isinstance(x, bytes):
        return b"%d:%s" % (len(x), x)
    if isinstance(x, str):
        return bencode(x.encode())
    if isinstance(x, list):
        return b"l" + b"".join(bencode(v) for v in x) + b"e"
    return b"d" + b"".join(bencode(k) + bencode(x[k]) for k in sorted(x)) + b"e"


def make_torrents(directory, count, seed=9):
    """count .torrent files (random piece hashes: no data needed for paused torrents)."""
    os.makedirs(directory, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for i in range(count):
        piece = 256 * 1024
        size = rng.randint(4 * 1024 * 1024, 64 * 1024 * 1024)
        pieces = rng.randbytes(20 * ((size + piece - 1) // piece))
        meta = {"announce": DEAD_TRACKER, "created by": "btd bench_scale",
                "info": {"name": f"scale-{i:05d}.bin", "length": size, "piece length": piece,
                         "pieces": pieces}}
        path = os.path.join(directory, f"t{i:05d}.torrent")
        with open(path, "wb") as f:
            f.write(bencode(meta))
        paths.append(path)
    return paths


class TrRpc:
    """Transmission RPC (the 409 session-id handshake) over one keep-alive connection."""

    def __init__(self, port, path="/transmission/rpc", auth=None):
        self.port, self.path, self.auth = port, path, auth
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.session_id = ""

    def call(self, method, arguments):
        body = json.dumps({"method": method, "arguments": arguments})
        for _ in range(3):
            headers = {"X-Transmission-Session-Id": self.session_id,
                       "Content-Type": "application/json"}
            if self.auth:
                headers["Authorization"] = self.auth
            self.conn.request("POST", self.path, body=body, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
            if resp.status == 409:
                self.session_id = resp.getheader("X-Transmission-Session-Id")
                continue
            reply = json.loads(data)
            if reply.get("result") != "success":
                raise RuntimeError(f"{method}: {reply.get('result')}")
            return reply["arguments"]
        raise RuntimeError(f"{method}: no session id")

    def close(self):
        self.conn.close()


class Transmission:
    def __init__(self, root, download_dir):
        self.dir = os.path.join(root, "transmission")
        self.download_dir = download_dir
        self.rpc_port, self.peer_port = H.free_port(), H.free_port()
        self.proc = None
        os.makedirs(self.dir, exist_ok=True)
        settings = {
            "rpc-enabled": True, "rpc-bind-address": "127.0.0.1", "rpc-port": self.rpc_port,
            "rpc-authentication-required": False, "rpc-whitelist-enabled": False,
            "rpc-host-whitelist-enabled": False, "peer-port": self.peer_port,
            "peer-port-random-on-start": False, "bind-address-ipv4": "127.0.0.1",
            "bind-address-ipv6": "::1", "dht-enabled": False, "lpd-enabled": False,
            "utp-enabled": False, "pex-enabled": False, "port-forwarding-enabled": False,
            "download-dir": download_dir, "incomplete-dir-enabled": False,
            "start-added-torrents": False, "watch-dir-enabled": False, "message-level": 1,
        }
        with open(os.path.join(self.dir, "settings.json"), "w") as f:
            json.dump(settings, f)

    def start(self):
        """Spawns it; returns (TrRpc, spawn time) once its RPC port accepts connections."""
        log = open(os.path.join(self.dir, "daemon.log"), "ab")
        started = time.monotonic()
        self.proc = H.spawn(["transmission-daemon", "-f", "-g", self.dir], stdout=log,
                            stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        H.wait_for_tcp(self.rpc_port, 60, self.proc)
        return TrRpc(self.rpc_port), started

    def stop(self, timeout=60):
        t = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=timeout)
        return rc, time.monotonic() - t


class Btd:
    """bench_daemon.Daemon plus list/add in the shape this benchmark needs."""

    def __init__(self, root, download_dir):
        self.d = D.Daemon(os.path.join(root, "btd"), download_dir, "warn")
        os.makedirs(self.d.root, exist_ok=True)

    @property
    def proc(self):
        return self.d.proc

    def start(self):
        return self.d.start()  # (Rpc, spawn time) once rpc.address exists

    def stop(self):
        return self.d.stop(timeout=60)


def btd_tr_route(rpc):
    """btd's own /transmission/rpc, authenticated with its secret."""
    return TrRpc(rpc.port, auth=f"Bearer {rpc.secret}")


def list_btd(rpc):
    return len(rpc.call("torrent.list", {"fields": BTD_FIELDS[1:]}, timeout=120))


def list_tr(rpc):
    return len(rpc.call("torrent-get", {"fields": TR_FIELDS})["torrents"])


def wait_listed(list_fn, rpc_fn, count, started, timeout=300):
    """Seconds from `started` until a list returns `count` torrents (connection retried)."""
    rpc = None
    while True:
        try:
            rpc = rpc or rpc_fn()
            if list_fn(rpc) == count:
                return time.monotonic() - started, rpc
        except (OSError, http.client.HTTPException, RuntimeError):
            rpc = None
        if time.monotonic() - started > timeout:
            raise SystemExit(f"not all {count} torrents listed after {timeout}s")
        time.sleep(0.01)


def cpu_seconds(pid):
    """On-CPU time of every thread (/proc/PID/task/*/schedstat, ns resolution: a list call can
    take less than the 10 ms tick that /proc/PID/stat counts in)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that just ended
    return total / 1e9


def memory(pid):
    return {k: H.proc_status_kib(pid, k) / 1024 for k in ("VmRSS", "RssAnon")}


def run_count(args, root, torrents):
    count = len(torrents)
    dl = os.path.join(root, "downloads")
    os.makedirs(dl, exist_ok=True)
    btd, tr = Btd(root, dl), Transmission(root, dl)
    res = {"count": count}
    try:
        brpc, _ = btd.start()
        trpc, _ = tr.start()
        time.sleep(1)
        res["btd_base_mib"] = memory(btd.proc.pid)["VmRSS"]
        res["tr_base_mib"] = memory(tr.proc.pid)["VmRSS"]
        add_b = add_t = 0.0
        for path in torrents:
            t0 = time.perf_counter()
            brpc.call("torrent.add", {"path": path, "paused": True})
            t1 = time.perf_counter()
            trpc.call("torrent-add", {"filename": path, "paused": True})
            add_b += t1 - t0
            add_t += time.perf_counter() - t1
        res["btd_add_per_s"], res["tr_add_per_s"] = count / add_b, count / add_t
        if list_btd(brpc) != count or list_tr(trpc) != count:
            raise SystemExit("a daemon lost torrents while adding")
        time.sleep(5)
        for who, proc in (("btd", btd.proc), ("tr", tr.proc)):
            m = memory(proc.pid)
            res[f"{who}_rss_mib"], res[f"{who}_anon_mib"] = m["VmRSS"], m["RssAnon"]

        route = btd_tr_route(brpc)
        cpu = {"btd": 0.0, "tr": 0.0, "btd_tr_route": 0.0}
        calls = [("btd", btd.proc.pid, lambda: list_btd(brpc)),
                 ("tr", tr.proc.pid, lambda: list_tr(trpc)),
                 ("btd_tr_route", btd.proc.pid, lambda: list_tr(route))]
        for _ in range(args.list_calls):
            for key, pid, fn in calls:
                c0 = cpu_seconds(pid)
                if fn() != count:
                    raise SystemExit(f"{key}: list is short")
                cpu[key] += cpu_seconds(pid) - c0
        route.close()
        for key in cpu:
            res[f"{key}_list_cpu_ms"] = cpu[key] * 1000 / args.list_calls
        res["btd_list_kib"] = brpc.last_reply_bytes / 1024

        b0, t0 = cpu_seconds(btd.proc.pid), cpu_seconds(tr.proc.pid)
        time.sleep(args.idle_s)
        res["btd_idle_pct"] = (cpu_seconds(btd.proc.pid) - b0) / args.idle_s * 100
        res["tr_idle_pct"] = (cpu_seconds(tr.proc.pid) - t0) / args.idle_s * 100

        brpc.close()
        trpc.close()
        res["btd_stop_rc"], res["btd_stop_s"] = btd.stop()
        res["tr_stop_rc"], res["tr_stop_s"] = tr.stop()
        _, started = btd.start()
        res["btd_restart_s"], brpc = wait_listed(list_btd, lambda: _btd_rpc(btd), count,
                                                 started)
        _, started = tr.start()
        res["tr_restart_s"], trpc = wait_listed(list_tr, lambda: TrRpc(tr.rpc_port), count,
                                                started)
        time.sleep(2)
        res["btd_restart_rss_mib"] = memory(btd.proc.pid)["VmRSS"]
        res["tr_restart_rss_mib"] = memory(tr.proc.pid)["VmRSS"]
        brpc.close()
        trpc.close()
        btd.stop()
        tr.stop()
    finally:
        for p in (btd.proc, tr.proc):
            if p is not None:
                H.kill_process(p)
    return res


def _btd_rpc(btd):
    """An Rpc to the restarted btd (its rpc.address is written before the port is served)."""
    state = btd.d.state_dir
    with open(os.path.join(state, "rpc.address")) as f:
        address = f.read().strip()
    with open(os.path.join(state, "rpc.secret")) as f:
        return D.Rpc(address, f.read().strip())


def report(r):
    def ratio(a, b):
        return a / max(b, 1e-9)

    n = r["count"]
    print(f"\n== {n} paused torrents (load {r['load']:.1f}) ==")
    print(f"{'':<22}{'btd':>12}{'transmission':>14}{'ratio':>8}")
    rows = [
        ("VmRSS MiB", r["btd_rss_mib"], r["tr_rss_mib"]),
        ("RssAnon MiB", r["btd_anon_mib"], r["tr_anon_mib"]),
        ("VmRSS before adds MiB", r["btd_base_mib"], r["tr_base_mib"]),
        ("KiB per torrent (RSS)", (r["btd_rss_mib"] - r["btd_base_mib"]) * 1024 / n,
         (r["tr_rss_mib"] - r["tr_base_mib"]) * 1024 / n),
        ("list CPU ms/call", r["btd_list_cpu_ms"], r["tr_list_cpu_ms"]),
        ("  btd torrent-get route", r["btd_tr_route_list_cpu_ms"], r["tr_list_cpu_ms"]),
        ("idle CPU %", r["btd_idle_pct"], r["tr_idle_pct"]),
        ("restart to listed s", r["btd_restart_s"], r["tr_restart_s"]),
        ("RSS after restart MiB", r["btd_restart_rss_mib"], r["tr_restart_rss_mib"]),
        ("adds per s", r["btd_add_per_s"], r["tr_add_per_s"]),
        ("SIGTERM to exit s", r["btd_stop_s"], r["tr_stop_s"]),
    ]
    for name, a, b in rows:
        print(f"{name:<22}{a:12.2f}{b:14.2f}{ratio(a, b):8.2f}")
    checks = [("RSS <= 0.8x Transmission's", r["btd_rss_mib"] <= 0.8 * r["tr_rss_mib"]),
              ("list CPU <= 0.5x Transmission's",
               r["btd_list_cpu_ms"] <= 0.5 * r["tr_list_cpu_ms"]),
              ("idle CPU < 0.2 %", r["btd_idle_pct"] < 0.2),
              ("restart until all listed < 1 s", r["btd_restart_s"] < 1.0)]
    for name, ok in checks:
        print(f"  {'MET    ' if ok else 'NOT MET'} {name}")


def main():
    args = parse_args()
    H.btd_binary()
    results = []
    with H.TempDir(prefix="btd-bench-scale-") as root:
        torrents = make_torrents(os.path.join(root, "torrents"), max(args.counts))
        for count in args.counts:
            work = os.path.join(root, f"n{count}")
            os.makedirs(work)
            H.log(f"{count} torrents: both daemons")
            r = run_count(args, work, torrents[:count])
            r["load"] = os.getloadavg()[0]
            results.append(r)
            report(r)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
