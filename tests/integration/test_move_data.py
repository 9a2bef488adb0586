#!/usr/bin/python3
"""Moving a torrent's data while it downloads from a libtorrent seeder (issue 12 item 2): with
`btctl move` on one file system (renames), and with transmission-remote --move to another file
system (/dev/shm, a tmpfs: copies, then deletes). Each time the torrent goes on from the new
place, completes there with every byte compared, and the old place is left empty. Without
`move`, torrent-set-location only points btd elsewhere and checks again (transmission-remote
--find). transmission-remote --reannounce and the raw queue-move-* / torrent-start-now calls
answer success."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness as H
from test_daemon_lifecycle import BtdDaemon, DaemonTestCase
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


MULTI = [(f"part{i}.bin", 4 * H.MIB + 1000 * i) for i in range(6)]  # ~24 MiB in 6 files
MULTI_SIZE = sum(size for _, size in MULTI)
DELAY_MS = 300  # BTD_TEST_MOVE_DELAY_MS: after each MiB copied and each original deleted


@unittest.skipUnless(os.geteuid() == 0, "needs root to mount a tmpfs (another file system)")
class MoveInterrupted(unittest.TestCase):
    """A move to another file system (a tmpfs this test mounts) killed with SIGKILL in the
    middle: while copying (the move is undone at the next start) and while deleting the
    originals (it is finished). Either way the torrent ends complete with every byte compared,
    and nothing is downloaded again: btd's downloaded total stays, and the libtorrent seeder,
    stopped before the restart, uploaded the torrent's size once. The move is slowed down with
    BTD_TEST_MOVE_DELAY_MS, a fault-injection variable only tests set."""

    def setUp(self):
        self.swarm = H.Swarm(MULTI, "multi", tracker="http")
        self.swarm.__enter__()
        self.addCleanup(self.swarm.__exit__, None, None, None)
        self.seeder = self.swarm.add_seeder()
        self.mnt = os.path.join(self.swarm.dir, "mnt")
        os.makedirs(self.mnt)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128m", "tmpfs", self.mnt], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", self.mnt])
        self.state = os.path.join(self.swarm.dir, "state")
        env = dict(os.environ, BTD_TEST_MOVE_DELAY_MS=str(DELAY_MS))
        self.daemon = BtdDaemon(self.state, self.swarm.dl_dir, env=env)
        self.addCleanup(self.daemon.stop)
        self.daemon.start()
        self.tid = self.daemon.add(self.swarm.torrent)["id"]
        self.daemon.wait_state(self.tid, "seeding", H.LEECH_TIMEOUT)
        self.swarm.check_download()
        self.downloaded = self.wait_resume_saved()
        self.journal = os.path.join(self.state, "moves", self.tid + ".move")
        self.dest = os.path.join(self.mnt, "dest")

    def wait_resume_saved(self):
        path = os.path.join(self.state, "resume", self.tid + ".json")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with open(path) as f:
                    saved = json.load(f)
                if set(saved["have"]) == {"1"} and saved["total_downloaded"] >= MULTI_SIZE:
                    return saved["total_downloaded"]
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        self.fail("the resume data never recorded the complete torrent")

    def move_and_kill_when(self, journal_says, then_wait=0.0):
        self.daemon.rpc("torrent.set_location", {"ids": [self.tid], "location": self.dest,
                                                 "move": True})
        deadline = time.monotonic() + 60
        text = ""
        while journal_says not in text:
            self.assertLess(time.monotonic(), deadline, f"journal: {text!r}\n"
                            + self.daemon.log()[-3000:])
            time.sleep(0.01)
            try:
                with open(self.journal) as f:
                    text = f.read()
            except OSError:
                pass
        time.sleep(then_wait)
        self.daemon.kill9()
        H.log(f"killed with the journal at:\n{text}")
        return text

    def restart_and_wait_complete(self):
        final = self.swarm.stop_seeders()[0]  # nobody left to download from
        self.daemon.start()
        st = self.daemon.wait_state(self.tid, "seeding", 120)
        self.assertEqual(st["downloaded"], self.downloaded, "bytes were downloaded again")
        self.assertLessEqual(int(final.get("up", 0)), MULTI_SIZE * 1.05, final)
        self.assertFalse(os.path.exists(self.journal))
        return st

    def tree(self, root):
        return sorted(name for name in os.listdir(root)) if os.path.isdir(root) else []

    def test_killed_while_copying_the_move_is_undone(self):
        text = self.move_and_kill_when("copied ")
        self.assertNotIn("commit", text)
        self.assertTrue(os.listdir(self.dest), "nothing copied yet: the kill came too early")
        st = self.restart_and_wait_complete()
        self.assertEqual(st["download_dir"], self.swarm.dl_dir)
        self.swarm.check_download()
        self.assertEqual(self.tree(self.dest), [], "partial copies left behind")
        self.assertIn("undid the interrupted move", self.daemon.log())

    def test_killed_while_deleting_the_originals_the_move_is_finished(self):
        # Killed ~1.5 deletions in (each original's deletion is followed by DELAY_MS).
        self.move_and_kill_when("commit", then_wait=1.5 * DELAY_MS / 1000)
        left = self.tree(os.path.join(self.swarm.dl_dir, "multi"))
        H.log(f"originals left at the kill: {left}")
        self.assertTrue(left, "the kill came after the move was over")
        st = self.restart_and_wait_complete()
        self.assertEqual(st["download_dir"], self.dest)
        H.compare_trees(self.swarm.content, os.path.join(self.dest, "multi"))
        self.assertEqual(self.tree(self.swarm.dl_dir), [], "originals left behind")
        self.assertIn("finished the interrupted move", self.daemon.log())


if __name__ == "__main__":
    unittest.main()
