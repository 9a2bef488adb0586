#!/usr/bin/python3
"""Seeding stops cleanly at the ratio limit, and run-time limits set over RPC take effect.

btd (the daemon) seeds a complete 8 MiB torrent. `torrent.set` gives it a ratio limit of 1.0
(against its size, since it never downloaded it) and `session.set` an upload limit; a libtorrent
leecher then downloads everything from it. Once btd has sent the whole size it must stop seeding
by itself (state "paused", ratio >= 1, no peers left).
"""

import os
import shutil
import tempfile
import time
import unittest

import harness as H
from test_daemon_lifecycle import BtdDaemon


class SeedRatioLimit(unittest.TestCase):
    def test_ratio_limit_pauses_seeding(self):
        size = 8 * H.MIB
        with H.Swarm(H.layout_single(size, "ratio.bin"), "ratio.bin") as sw:
            work = tempfile.mkdtemp(prefix="btd-ratio-")
            state = os.path.join(work, "state")
            os.makedirs(state)
            daemon = BtdDaemon(state, sw.src_dir).start()
            try:
                tid = daemon.add(sw.torrent)["id"]
                daemon.wait_state(tid, "seeding", 60)
                daemon.rpc("torrent.set", {"ids": [tid], "ratio_limit": 1.0})
                daemon.rpc("session.set", {"upload_rate_limit": 4 * H.MIB})
                self.assertEqual(daemon.rpc("session.get")["upload_rate_limit"], 4 * H.MIB)
                leecher = H.LtPeer(sw.torrent, sw.dl_dir, mode="leech", timeout=60).start()
                self.assertEqual(leecher.proc.wait(70), 0, "\n".join(leecher.lines[-20:]))
                sw.check_download()
                final = daemon.wait_state(tid, "paused", 30)
                H.log(f"btd after the leecher: {final}")
                self.assertGreaterEqual(final["uploaded"], size)
                self.assertGreaterEqual(final["ratio"], 1.0)
                self.assertEqual(final["peers"], 0)
                rc, _ = daemon.signal_and_wait()
                self.assertEqual(rc, 0)
            finally:
                if daemon.proc and daemon.proc.poll() is None:
                    daemon.proc.kill()
                shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
