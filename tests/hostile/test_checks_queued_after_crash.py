#!/usr/bin/python3
"""Issue 9, item 5: many torrents to check after a crash take turns, newest-added first.

Four torrents (96 MiB each) are added to btd one second apart while their download dir is
empty, then btd is killed (SIGKILL) and the data is put in place. At the restart every one of
them must be checked in full. Before the fix all four checks read the disk at the same time;
now one long check runs at a time: the test polls `torrent.list` every 20 ms and never sees two
torrents part-way through a check at once, sees each start only after the previous one ended,
and sees all but the first to start go newest-added first. Every torrent must end up seeding
with all its pieces (btd's check found the bytes; they are the torrent's own bytes).

Needs BTD_BIN (ctest sets it).
"""

import os
import signal
import time
import unittest

import hostile_common  # noqa: F401  (puts the integration harness on the path)
from hostile_common import harness as H
from test_daemon_lifecycle import BtdDaemon

COUNT = 4
SIZE = 96 * H.MIB  # above the 64 MiB a check may read without queueing
PIECE = 256 * H.KIB
DEAD_TRACKER = "http://127.0.0.1:1/announce"
CHECK_BOUND = 300  # seconds for 384 MiB of checks on a loaded 2-core machine


def drop_cache(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


class ChecksQueuedAfterCrash(unittest.TestCase):
    def setUp(self):
        self.tmp = H.TempDir(prefix="btd-hostile-checkq-")
        self.root = self.tmp.__enter__()
        self.stash = os.path.join(self.root, "stash")
        self.dl = os.path.join(self.root, "dl")
        os.makedirs(self.dl)
        self.torrents = []
        filler = H._Filler(31)
        os.makedirs(self.stash)
        for i in range(COUNT):
            path = os.path.join(self.stash, f"q{i}.bin")
            filler.write_file(path, SIZE)
            self.torrents.append(H.make_torrent(path, [DEAD_TRACKER], PIECE,
                                                os.path.join(self.root, f"q{i}.torrent")))
        self.daemon = BtdDaemon(os.path.join(self.root, "state"), self.dl)

    def tearDown(self):
        if self.daemon.proc is not None:
            H.kill_process(self.daemon.proc)
        self.tmp.__exit__(None, None, None)

    def add_all_then_crash(self):
        self.daemon.start()
        ids = []
        for i, (torrent, info_hash) in enumerate(self.torrents):
            if i:
                time.sleep(1.1)  # distinct added_at (seconds)
            ids.append(self.daemon.add(torrent)["id"])
            self.assertEqual(ids[-1], info_hash)
        for torrent_id in ids:  # nothing on disk: each check ends at once
            self.daemon.wait_state(torrent_id, "downloading", timeout=60)
        self.daemon.proc.send_signal(signal.SIGKILL)
        self.daemon.proc.wait(timeout=30)
        return ids

    def poll_checks(self):
        """Polls until no torrent checks; returns (most part-way at once, start order)."""
        deadline = time.monotonic() + CHECK_BOUND
        most_partway, started, ended, overlaps = 0, [], set(), []
        saw_checking = False
        while time.monotonic() < deadline:
            rows = self.daemon.rpc("torrent.list", {"fields": ["state", "progress"]})
            checking = [r for r in rows if r["state"] == "checking"]
            saw_checking = saw_checking or bool(checking)
            partway = [r["id"] for r in checking if 0 < r["progress"] < 1]
            most_partway = max(most_partway, len(partway))
            ended.update(r["id"] for r in rows if r["state"] != "checking")
            for torrent_id in partway:
                if torrent_id not in started:
                    # A new check may start only once every earlier one has ended.
                    overlaps += [(s, torrent_id) for s in started if s not in ended]
                    started.append(torrent_id)
            if saw_checking and not checking and len(rows) == COUNT:
                return most_partway, started, overlaps
            time.sleep(0.02)
        self.fail(f"checks not done after {CHECK_BOUND}s:\n{self.daemon.log()[-4000:]}")

    def test_checks_take_turns_newest_first(self):
        ids = self.add_all_then_crash()
        for i in range(COUNT):  # the data arrives while btd is down
            dst = os.path.join(self.dl, f"q{i}.bin")
            os.rename(os.path.join(self.stash, f"q{i}.bin"), dst)
            drop_cache(dst)  # read from the disk: each check lasts long enough to be seen
        self.daemon.start()
        most_partway, started, overlaps = self.poll_checks()
        H.log(f"checks started in add order {[ids.index(i) + 1 for i in started]}, "
              f"at most {most_partway} part-way at once")
        self.assertLessEqual(most_partway, 1, "two torrents were checked at the same time")
        self.assertEqual(overlaps, [], "a check started before the previous one ended")
        self.assertGreaterEqual(len(started), 3, "too few checks seen part-way to judge")
        # The first to start took the free turn; the others went newest-added first.
        rest = [ids.index(i) for i in started[1:]]
        self.assertEqual(rest, sorted(rest, reverse=True), f"start order {started}")
        for torrent_id in ids:
            status = self.daemon.wait_state(torrent_id, "seeding", timeout=60)
            self.assertEqual(status["have_bytes"], SIZE)
        rc, _ = self.daemon.signal_and_wait(signal.SIGTERM, timeout=30)
        self.assertEqual(rc, 0)


if __name__ == "__main__":
    unittest.main()
