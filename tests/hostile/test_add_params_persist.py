#!/usr/bin/python3
"""Issue 8 item 7: a job keeps what it was added with when btd stops before its first save.

btd saves a job's resume data only after the first check (its have-bits are incomplete before),
so SIGTERM during the first check of a 400 MiB torrent lost the job's download_dir, paused flag,
file priorities and sequential mode: it came back in the default dir and would have downloaded
everything again. Now torrent.add replies only once the job's add parameters are stored.
"""

import json
import os
import signal
import time
import unittest

import hostile_common  # noqa: F401  (sets up the import path)
from hostile_common import harness as H
from test_daemon_lifecycle import BtdDaemon

MIB = 1024 * 1024
LAYOUT = [("big/a.bin", 160 * MIB), ("big/b.bin", 120 * MIB), ("big/c.bin", 100 * MIB),
          ("big/d.bin", 20 * MIB + 12345)]
PRIORITIES = [7, 0, 4, 1]


class AddParamsPersist(unittest.TestCase):
    def test_sigterm_during_first_check_keeps_add_parameters(self):
        tmp = H.TempDir("btd-addparams-")
        root = tmp.__enter__()
        self.addCleanup(tmp.__exit__, None, None, None)
        data_dir = os.path.join(root, "data")  # the data is here, not in the default dir
        H.make_payload(data_dir, LAYOUT)
        torrent, info_hash = H.make_torrent(os.path.join(data_dir, "big"), [],
                                            piece_length=4 * MIB,
                                            out_path=os.path.join(root, "big.torrent"))
        btd = BtdDaemon(os.path.join(root, "state"), os.path.join(root, "default-dl"))
        btd.start()
        self.addCleanup(btd.stop)

        btd.add(torrent, download_dir=data_dir, paused=True, sequential=True,
                file_priorities=PRIORITIES)
        # The reply came after the job's files were stored: they are there already.
        resume_file = os.path.join(btd.state_dir, "resume", info_hash + ".json")
        stored_before_stop = os.path.exists(resume_file)
        state = btd.status(info_hash)
        rc, took = btd.signal_and_wait(signal.SIGTERM, timeout=20)
        H.log(f"SIGTERM while {state['state']} at {state['progress']:.2f}: exit {rc} in "
              f"{took:.1f}s; resume file there at reply: {stored_before_stop}")
        self.assertEqual(rc, 0)
        if state["have_bytes"] >= state["size"]:
            self.skipTest("the check ended before SIGTERM; the case was not reached")

        btd.start()
        t = btd.status(info_hash)
        info = btd.rpc("torrent.get", {"id": info_hash})
        H.log(f"after restart: {t['state']} in {t['download_dir']}, sequential "
              f"{t['sequential']}, priorities {[f['priority'] for f in info['files']]}")
        self.assertEqual(t["download_dir"], data_dir)
        self.assertEqual(t["state"], "paused")
        self.assertTrue(t["sequential"])
        self.assertEqual([f["priority"] for f in info["files"]], PRIORITIES)
        self.assertTrue(stored_before_stop, "torrent.add replied before the job was stored")

        # The data in data_dir is found by a check, not downloaded again.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            t = btd.status(info_hash)
            if t["size"] > 0 and t["have_bytes"] == t["size"]:
                break
            time.sleep(0.5)
        self.assertEqual(t["have_bytes"], t["size"], "the data on disk was not found")
        rc, _ = btd.signal_and_wait(signal.SIGTERM, timeout=20)
        self.assertEqual(rc, 0)
        with open(resume_file) as f:
            saved = json.load(f)
        self.assertEqual(saved["download_dir"], data_dir)
        self.assertTrue(saved["paused"])


if __name__ == "__main__":
    unittest.main()
