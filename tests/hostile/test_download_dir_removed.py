#!/usr/bin/python3
"""Issue 8, item 2: the download dir is removed mid-download.

btd downloads ~24 MiB in three files from a libtorrent seeder capped at 1.5 MiB/s. Once about a
quarter is in, the whole download dir is removed (rm -rf). btd must notice that the files it
writes into are gone, drop the pieces it had in them and fetch them again into new files: it may
say seeding only over files that match the original byte for byte (or go to `error` with a
message; never seeding over zeros). After a restart the same holds.
"""

import os
import shutil
import signal
import time
import unittest

import hostile_common  # noqa: F401  (sets up the import path)
from hostile_common import harness as H
from integrity_common import TorrentLayout, assert_claims_hold
from test_daemon_lifecycle import BtdDaemon

NAME = "dir-removed"
LAYOUT = [("a.bin", 9 * H.MIB + 5), ("sub/b.bin", 7 * H.MIB + 77), ("sub/c.bin", 8 * H.MIB)]
SEED_RATE = 1536 * H.KIB
TIMEOUT = 240


class DownloadDirRemoved(unittest.TestCase):
    def setUp(self):
        H.btd_binary()
        self.swarm = H.Swarm(LAYOUT, NAME, tracker="http").__enter__()
        self.addCleanup(self.swarm.__exit__, None, None, None)
        self.swarm.add_seeder(upload_limit=SEED_RATE)
        self.dl = os.path.join(self.swarm.dir, "downloads")
        self.state = os.path.join(self.swarm.dir, "state")
        self.layout = TorrentLayout(self.swarm.torrent)
        self.daemon = BtdDaemon(self.state, self.dl)
        self.addCleanup(self.daemon.stop)

    def wait_progress(self, tid, at_least):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            st = self.daemon.status(tid)
            self.assertNotEqual(st["state"], "seeding", "finished before the dir was removed")
            # Not while checking: progress then counts checked pieces, and no file exists yet.
            if st["state"] == "downloading" and st["have_bytes"] >= at_least * st["size"]:
                return st
            time.sleep(0.1)
        self.fail(f"no {at_least:.0%} progress in {TIMEOUT}s")

    def wait_final(self, tid):
        """Seeding over exact bytes, or a clear error; fails on seeding over wrong bytes."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            st = self.daemon.status(tid)
            if st["state"] == "seeding":
                H.compare_trees(self.swarm.content, os.path.join(self.dl, NAME))
                assert_claims_hold(self, self.daemon, tid, self.layout, self.dl, "seeding")
                return st
            if st["state"] == "error":
                self.assertIn(NAME, st["error"])
                return st
            time.sleep(0.2)
        self.fail(f"neither seeding nor error in {TIMEOUT}s: {st}\n" + self.daemon.log()[-3000:])

    def test_download_dir_removed_mid_download(self):
        self.daemon.start()
        tid = self.daemon.add(self.swarm.torrent)["id"]
        before = self.wait_progress(tid, 0.25)
        shutil.rmtree(self.dl)
        H.log(f"removed the download dir at progress {before['progress']:.2f}; "
              f"exists now: {os.path.exists(self.dl)}")

        st = self.wait_final(tid)
        H.log(f"after the removal: {st['state']} {st['error']}")
        self.assertEqual(st["state"], "seeding", st["error"])  # btd fetches the lost pieces again
        log = self.daemon.log()
        self.assertIn("checking its pieces again", log)

        rc, _ = self.daemon.signal_and_wait(signal.SIGTERM, timeout=30)
        self.assertEqual(rc, 0)
        self.daemon.start()
        st = self.daemon.wait_state(tid, "seeding", TIMEOUT)
        H.compare_trees(self.swarm.content, os.path.join(self.dl, NAME))
        assert_claims_hold(self, self.daemon, tid, self.layout, self.dl, "after the restart")

        # Removed while btd is stopped: the restart must not trust the resume data.
        rc, _ = self.daemon.signal_and_wait(signal.SIGTERM, timeout=30)
        self.assertEqual(rc, 0)
        shutil.rmtree(self.dl)
        self.daemon.start()
        deadline = time.monotonic() + TIMEOUT
        while True:
            details = assert_claims_hold(self, self.daemon, tid, self.layout, self.dl,
                                         "restart after the dir was removed")
            if details["state"] == "seeding":
                H.compare_trees(self.swarm.content, os.path.join(self.dl, NAME))
                break
            self.assertNotEqual(details["state"], "error", details["error"])
            self.assertLess(time.monotonic(), deadline, f"not seeding again: {details['state']}")
            time.sleep(0.2)


if __name__ == "__main__":
    unittest.main()
