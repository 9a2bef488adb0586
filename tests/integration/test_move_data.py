#!/usr/bin/python3
"""Moving a torrent's data while it downloads from a libtorrent seeder (issue 12 item 2): with
`btctl move` on one file system (renames), and with transmission-remote --move to another file
system (/dev/shm, a tmpfs: copies, then deletes). Each time the torrent goes on from the new
place, completes there with every byte compared, and the old place is left empty. Without
`move`, torrent-set-location only points btd elsewhere and checks again (transmission-remote
--find). transmission-remote --reannounce and the raw queue-move-* / torrent-start-now calls
answer success."""

import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness as H
from test_daemon_lifecycle import DaemonTestCase
import test_labels  # its raw Transmission client (not its tests)
from test_transmission_remote import REMOTE

SIZE = 12 * H.MIB + 4321
RATE = 2 * H.MIB  # the seeder's cap: ~6 s of downloading, time to move in the middle


class MoveData(DaemonTestCase):
    def setUp(self):
        self.swarm = self.make_swarm(SIZE, "moved.bin", upload_limit=RATE)
        self.daemon = self.make_daemon(self.swarm).start()
        self.btd = self.daemon  # for Labels.transmission, the raw Transmission client
        self.tid = self.daemon.add(self.swarm.torrent)["id"]

    def btctl(self, *args):
        res = subprocess.run([H.btctl_binary(), "--state-dir", self.daemon.state_dir, *args],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        return res.stdout

    def remote(self, *args):
        env = dict(os.environ, TR_AUTH=f"btd:{self.daemon.secret}")
        res = subprocess.run([REMOTE, self.daemon.address, "-ne", *args], env=env,
                             capture_output=True, text=True, timeout=60)
        H.log(f"transmission-remote {' '.join(args)} -> {res.returncode}\n{res.stdout}{res.stderr}")
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertNotIn("Error", res.stdout + res.stderr)
        return res.stdout

    def wait_partly_downloaded(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            st = self.daemon.status(self.tid)
            if 0.1 < st["progress"] < 0.7:
                return st
            self.assertNotEqual(st["state"], "seeding", "done before the move: seeder too fast")
            time.sleep(0.1)
        self.fail(f"no progress: {self.daemon.status(self.tid)}")

    def finish_and_compare(self, new_dir):
        deadline = time.monotonic() + 60
        while self.daemon.status(self.tid)["download_dir"] != new_dir:
            self.assertLess(time.monotonic(), deadline, self.daemon.log()[-3000:])
            time.sleep(0.1)
        st = self.daemon.wait_state(self.tid, "seeding", H.LEECH_TIMEOUT)
        self.assertEqual(st["download_dir"], new_dir)
        H.compare_trees(self.swarm.content, os.path.join(new_dir, "moved.bin"))
        self.assertEqual(os.listdir(self.swarm.dl_dir), [], "the old place is not empty")

    def test_btctl_move_within_one_file_system(self):
        before = self.wait_partly_downloaded()
        new_dir = os.path.join(self.swarm.dir, "elsewhere", "tv")
        self.assertIn("moving 1 torrent", self.btctl("move", self.tid[:8], new_dir))
        self.finish_and_compare(new_dir)
        H.log(f"moved at {before['progress']:.0%}")
        self.assertIn("data moved to " + new_dir, self.daemon.log())

    @unittest.skipUnless(REMOTE, "transmission-remote is not installed")
    @unittest.skipUnless(os.path.isdir("/dev/shm") and os.stat("/dev/shm").st_dev
                         != os.stat(tempfile.gettempdir()).st_dev,
                         "needs /dev/shm on another file system than the temp dir")
    def test_transmission_remote_move_across_file_systems(self):
        shm = tempfile.mkdtemp(prefix="btd-move-", dir="/dev/shm")
        self.addCleanup(shutil.rmtree, shm, True)
        self.wait_partly_downloaded()
        self.remote("-t", "1", "--move", shm)
        self.finish_and_compare(shm)
        # --find: btd only looks there, checks, and finds everything.
        self.remote("-t", "1", "--find", shm)
        deadline = time.monotonic() + 60
        while "data now looked for in " + shm not in self.daemon.log():
            self.assertLess(time.monotonic(), deadline, self.daemon.log()[-3000:])
            time.sleep(0.1)
        st = self.daemon.wait_state(self.tid, "seeding", 60)
        self.assertEqual(st["progress"], 1.0)
        self.assertEqual(os.listdir(self.swarm.dl_dir), [])
        # The queue and announce calls answer success through transmission-remote and raw.
        self.remote("-t", "1", "--reannounce")
        for method in ("queue-move-top", "queue-move-up", "queue-move-down",
                       "queue-move-bottom", "torrent-start-now"):
            reply = test_labels.Labels.transmission(self, method, {"ids": [1]})
            self.assertEqual(reply["result"], "success", (method, reply))


if __name__ == "__main__":
    unittest.main()
