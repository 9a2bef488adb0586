#!/usr/bin/python3
"""Issue 8, item 1: `btctl remove ID --delete-data && btctl add same.torrent` must never end
with btd claiming data that is gone.

A seeded torrent of ~300 MiB in 96 files (deleting them takes measurable time), announced to an
opentracker (so a remove also waits for the `stopped` announce). Each cycle: `btctl remove
--delete-data`, then at once `btctl add` of the same .torrent. When remove returns, every file
must be gone; the re-added job must never list a piece whose bytes on disk do not hash right
(here: none, the files are gone) and never say seeding. Then the data is copied back, `verify`
makes it seeding again, and the next cycle runs. Finally the sequence runs once more right
before SIGTERM, and after the restart btd must still claim nothing it does not have.
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

NAME = "removed-then-added"
LAYOUT = [(f"d{i % 4}/f{i:03d}.bin", 3 * H.MIB + i * 4099) for i in range(96)]
CYCLES = 3
TIMEOUT = 180


class RemoveThenAdd(unittest.TestCase):
    def setUp(self):
        H.btctl_binary()
        H.btd_binary()
        self._tmp = H.TempDir(prefix="btd-remove-add-")
        self.dir = self._tmp.__enter__()
        self.addCleanup(self._tmp.__exit__, None, None, None)
        self.src = os.path.join(self.dir, "src")
        self.dl = os.path.join(self.dir, "download")
        self.state = os.path.join(self.dir, "state")
        os.makedirs(self.dl)
        H.make_payload(os.path.join(self.src, NAME), LAYOUT, seed=8)
        _, info_hash = H.make_torrent(os.path.join(self.src, NAME), [],
                                      out_path=os.path.join(self.dir, "probe.torrent"))
        self.tracker = H.Tracker([info_hash]).__enter__()
        self.addCleanup(self.tracker.__exit__, None, None, None)
        self.torrent, self.id = H.make_torrent(os.path.join(self.src, NAME),
                                               [self.tracker.http_url],
                                               out_path=os.path.join(self.dir, "t.torrent"))
        self.layout = TorrentLayout(self.torrent)
        self.daemon = BtdDaemon(self.state, self.dl)
        self.addCleanup(self.daemon.stop)

    def btctl(self, *args):
        res = H.run_btctl(list(args), state_dir=self.state, timeout=120)
        self.assertEqual(res.returncode, 0, f"btctl {' '.join(args)}: {res.stderr}\n"
                         + self.daemon.log()[-3000:])
        return res

    def files_left(self):
        root = os.path.join(self.dl, NAME)
        return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]

    def restore_data_and_seed(self):
        shutil.copytree(os.path.join(self.src, NAME), os.path.join(self.dl, NAME),
                        dirs_exist_ok=True)
        self.btctl("verify", self.id)
        self.daemon.wait_state(self.id, "seeding", TIMEOUT)
        assert_claims_hold(self, self.daemon, self.id, self.layout, self.dl, "seeding again")

    def remove_then_add(self, cycle):
        """Returns the files still there when `btctl remove --delete-data` returned."""
        self.btctl("remove", self.id, "--delete-data")
        left = self.files_left()
        self.btctl("add", self.torrent)
        return left

    def assert_none_left(self, left, cycle):
        self.assertEqual(len(left), 0, f"cycle {cycle}: {len(left)} file(s) still there when "
                                       f"`btctl remove --delete-data` returned, e.g. {left[:3]}")

    def watch_readded_job(self, cycle):
        """Until its check ends: never seeding, never a piece the disk does not back."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            details = assert_claims_hold(self, self.daemon, self.id, self.layout, self.dl,
                                         f"cycle {cycle}, re-added job")
            self.assertNotEqual(details["state"], "seeding", f"cycle {cycle}: seeding over "
                                "deleted files\n" + self.daemon.log()[-3000:])
            if details["state"] not in ("checking",):
                break
            self.assertLess(time.monotonic(), deadline, "re-added job still checking")
            time.sleep(0.05)
        self.assertEqual(details["state"], "downloading")
        self.assertEqual(details["progress"], 0.0)

    def test_remove_then_add_never_claims_deleted_data(self):
        self.daemon.start()
        shutil.copytree(os.path.join(self.src, NAME), os.path.join(self.dl, NAME))
        self.btctl("add", self.torrent)
        self.daemon.wait_state(self.id, "seeding", TIMEOUT)

        for cycle in range(CYCLES):
            left = self.remove_then_add(cycle)
            self.watch_readded_job(cycle)  # first: a wrong claim is the worse failure
            self.assert_none_left(left, cycle)
            self.restore_data_and_seed()
            H.log(f"cycle {cycle}: files gone on return, re-added job claimed nothing")

        # Once more, then stop at once: the saved state must not claim the deleted data either.
        self.assert_none_left(self.remove_then_add(CYCLES), CYCLES)
        rc, _ = self.daemon.signal_and_wait(signal.SIGTERM, timeout=30)
        self.assertEqual(rc, 0)
        self.daemon.start()
        deadline = time.monotonic() + TIMEOUT
        while True:
            details = assert_claims_hold(self, self.daemon, self.id, self.layout, self.dl,
                                         "after the restart")
            self.assertNotEqual(details["state"], "seeding")
            if details["state"] != "checking":
                break
            self.assertLess(time.monotonic(), deadline, "still checking after the restart")
            time.sleep(0.1)
        self.assertEqual(details["progress"], 0.0)
        self.assertEqual(self.files_left(), [])


if __name__ == "__main__":
    unittest.main()
