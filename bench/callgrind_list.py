#!/usr/bin/python3
"""Instructions btd spends on full `torrent.list` calls, counted by callgrind (not seconds, so a
loaded machine does not matter): N paused torrents are added with collection off, then
collection is switched on around K calls with Transmission's six fields and the total is read
from the dump. Usage: callgrind_list.py [--btd PATH] [--torrents N] [--calls K] [--keep DIR]"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import bench_daemon as D
from bench_common import H
from bench_scale import BTD_FIELDS, make_torrents


def callgrind(pid, *args):
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, stdout=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--btd", default=os.environ.get("BTD_BIN", "build/daemon/btd"))
    ap.add_argument("--torrents", type=int, default=1000)
    ap.add_argument("--calls", type=int, default=10)
    ap.add_argument("--keep", help="a directory to copy the callgrind dumps to")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as root:
        state, out = os.path.join(root, "state"), os.path.join(root, "callgrind.out")
        paths = make_torrents(os.path.join(root, "torrents"), args.torrents)
        cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
               f"--callgrind-out-file={out}", args.btd, "--state-dir", state, "--download-dir",
               os.path.join(root, "data"), "--rpc-listen", "127.0.0.1:0", "--listen-port",
               str(H.free_port()), "--log-level", "warn", *H.NO_DISCOVERY_FLAGS]
        log = open(os.path.join(root, "btd.log"), "wb")
        proc = H.spawn(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        address_file = os.path.join(state, "rpc.address")
        for _ in range(1200):
            if os.path.exists(address_file) or proc.poll() is not None:
                break
            time.sleep(0.1)
        with open(address_file) as f:
            address = f.read().strip()
        with open(os.path.join(state, "rpc.secret")) as f:
            rpc = D.Rpc(address, f.read().strip())
        for path in paths:
            rpc.call("torrent.add", {"path": path, "paused": True}, timeout=120)
        listed = rpc.call("torrent.list", {"fields": BTD_FIELDS[1:]}, timeout=300)
        assert len(listed) == args.torrents, len(listed)
        callgrind(proc.pid, "-i", "on")
        for _ in range(args.calls):
            rpc.call("torrent.list", {"fields": BTD_FIELDS[1:]}, timeout=300)
        callgrind(proc.pid, "-i", "off")
        callgrind(proc.pid, "-d")
        H.kill_process(proc, 60)
        if args.keep:  # for callgrind_annotate
            for name in os.listdir(root):
                if name.startswith("callgrind.out"):
                    shutil.copy(os.path.join(root, name), args.keep)
        total = 0  # each dump holds what was counted since the one before: sum them
        for name in os.listdir(root):
            if name.startswith("callgrind.out"):
                with open(os.path.join(root, name)) as f:
                    sums = [int(m.group(1)) for m in map(re.compile(r"totals: (\d+)").match, f)
                            if m]
                total += sums[0] if sums else 0
        print(f"{args.btd}: {args.torrents} torrents, {args.calls} torrent.list calls: "
              f"{total:,} instructions, {total // args.calls:,} per call, "
              f"{total // args.calls // args.torrents:,} per torrent")


if __name__ == "__main__":
    sys.exit(main())
