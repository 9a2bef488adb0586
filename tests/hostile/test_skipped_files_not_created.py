#!/usr/bin/python3
"""Issue 8, case 10 (part file): skipped files must not appear on disk.

Skipped files (priority 0) that share a piece with a wanted file used to be created when that
piece was written: a full-size sparse file a media server would pick up. Now those bytes go to a
hidden part store in the download dir (`.btd.<info-hash>.parts/`, as libtorrent keeps a
`.<info-hash>.parts` file).

A folder of six files, three of them skipped, each sharing pieces with wanted ones (one tiny
skipped file lies inside a single piece between two others). After the download: no skipped file
exists, the wanted files are byte-exact, a raw peer asking for the shared pieces gets the right
bytes, a re-check (`btctl verify`) still finds every wanted piece without fetching one again (both
read the skipped part of those pieces from the part store), and the download dir shows nothing
but the torrent's folder and the hidden part store. Then every file is wanted again: the whole
torrent must end byte-exact and the part store must be gone.

Needs BTD_BIN and BTCTL_BIN (ctest sets both).
"""

import json
import os
import time
import unittest

import hostile_common  # noqa: F401  (puts the integration harness on the path)
from hostile_common import harness as H
import raw_peer as R
from test_daemon_lifecycle import BtdDaemon
from test_file_selection import PIECE, make_ordered_torrent

# Wanted: a, c, f. Skipped: b (shares its first piece with a, its last with c), d (100 bytes
# inside the piece shared by c and e) and e (shares pieces with c/d and with f).
LAYOUT = [
    ("a.bin", 1 * H.MIB + 1000),
    ("b.bin", 3 * H.MIB + 5000),
    ("c.bin", 1 * H.MIB + 3000),
    ("d.bin", 100),
    ("e.bin", 2 * H.MIB + 7),
    ("f.bin", 300 * H.KIB),
]
SKIPPED = (1, 3, 4)
TIMEOUT = H.LEECH_TIMEOUT


class SkippedFilesNotCreated(unittest.TestCase):
    def setUp(self):
        H.btctl_binary()
        self._tmp = H.TempDir(prefix="btd-skipped-")
        self.dir = self._tmp.__enter__()
        self.addCleanup(self._tmp.__exit__, None, None, None)
        self.src = os.path.join(self.dir, "src")
        self.dl = os.path.join(self.dir, "download")
        self.state = os.path.join(self.dir, "state")
        os.makedirs(self.dl)

    def btctl(self, *args):
        res = H.run_btctl(list(args), state_dir=self.state)
        self.assertEqual(res.returncode, 0, f"btctl {args}: {res.stdout}{res.stderr}")
        return res.stdout

    def info(self, tid):
        return json.loads(self.btctl("info", tid, "--json"))

    def assert_skipped_absent(self, out):
        for i in SKIPPED:
            path = os.path.join(out, LAYOUT[i][0])
            self.assertFalse(os.path.exists(path),
                             f"skipped file {LAYOUT[i][0]} is on disk "
                             f"({os.path.getsize(path) if os.path.exists(path) else 0} bytes)")

    def assert_serves_shared_pieces(self, daemon, folder):
        """A peer asking for the pieces shared by wanted and skipped files gets the right bytes:
        btd reads the skipped part of them from the part store."""
        content = b""
        for name, _ in LAYOUT:
            with open(os.path.join(folder, name), "rb") as f:
                content += f.read()
        shared, offset = set(), 0
        for i, (_, size) in enumerate(LAYOUT[:-1]):
            offset += size
            if offset % PIECE and (i in SKIPPED) != (i + 1 in SKIPPED):
                shared.add(offset // PIECE)
        self.assertGreaterEqual(len(shared), 3)
        port = daemon.rpc("session.get")["listen_port"]
        with R.RawPeer(port, self.tid) as peer:
            peer.handshake()
            peer.send(R.HAVE_NONE)
            peer.interested()
            peer.recv_until(R.UNCHOKE, timeout=30)
            for piece in sorted(shared):
                for begin in range(0, PIECE, R.BLOCK):
                    peer.request(piece, begin)
                    got = peer.recv_until(R.PIECE, timeout=30)[-1]
                    self.assertEqual(got.triple(), (piece, begin, R.BLOCK))
                    start = piece * PIECE + begin
                    self.assertEqual(got.payload[8:], content[start:start + R.BLOCK],
                                     f"wrong bytes served for piece {piece} at {begin}")
        H.log(f"shared pieces {sorted(shared)} served byte-exact")

    def test_skipped_files_stay_off_disk_and_come_back_whole_when_wanted(self):
        folder = os.path.join(self.src, "sel")
        H.make_payload(folder, LAYOUT, seed=11)
        make = lambda trackers, out: make_ordered_torrent(self.src, "sel", LAYOUT, trackers, out)
        _, info_hash = make([], os.path.join(self.dir, "probe.torrent"))
        tracker = H.Tracker([info_hash]).__enter__()
        self.addCleanup(tracker.__exit__, None, None, None)
        torrent, tid = make([tracker.http_url], os.path.join(self.dir, "t.torrent"))
        self.tid = tid
        seed = H.LtPeer(torrent, self.src, mode="seed").start()
        self.addCleanup(seed.stop)
        seed.wait_ready(60)
        daemon = BtdDaemon(self.state, self.dl)
        self.addCleanup(daemon.stop)
        daemon.start()

        self.btctl("add", "--paused", torrent)
        self.btctl("set", tid[:8], "--files", ",".join(map(str, SKIPPED)) + "=skip")
        wanted = sum(size for i, (_, size) in enumerate(LAYOUT) if i not in SKIPPED)
        self.assertEqual(self.info(tid)["size"], wanted)
        self.btctl("resume", tid[:8])
        status = daemon.wait_state(tid, "seeding", TIMEOUT)
        self.assertEqual(status["have_bytes"], wanted)

        out = os.path.join(self.dl, "sel")
        for i, (name, _) in enumerate(LAYOUT):
            if i not in SKIPPED:
                H.compare_trees(os.path.join(folder, name), os.path.join(out, name))
        self.assert_skipped_absent(out)
        part_store = ".btd." + tid + ".parts"
        self.assertEqual(sorted(os.listdir(self.dl)), sorted(["sel", part_store]))
        self.assertTrue(os.listdir(os.path.join(self.dl, part_store)))
        # Boundary pieces did come over: some bytes of each skipped file are held.
        files = self.info(tid)["files"]
        for i in SKIPPED:
            self.assertGreater(files[i]["have_bytes"], 0, files[i])

        self.assert_serves_shared_pieces(daemon, folder)

        # A full re-check reads the skipped bytes of shared pieces from the part store: every
        # piece is found again, none is fetched again.
        before = daemon.rpc("torrent.get", {"id": tid})
        checks = daemon.log().count("pieces present")
        self.btctl("verify", tid[:8])
        deadline = time.monotonic() + TIMEOUT
        while daemon.log().count("pieces present") == checks and time.monotonic() < deadline:
            time.sleep(0.2)
        present = [line for line in daemon.log().splitlines() if "pieces present" in line]
        self.assertGreater(len(present), checks, "the re-check never finished")
        H.log(f"after verify: {present[-1]}")
        status = daemon.wait_state(tid, "seeding", TIMEOUT)
        after = daemon.rpc("torrent.get", {"id": tid})
        self.assertEqual(after["pieces"], before["pieces"])
        self.assertEqual(after["downloaded"], before["downloaded"], "pieces were fetched again")
        self.assertEqual(status["have_bytes"], wanted)
        self.assert_skipped_absent(out)

        # Everything wanted again: every file byte-exact, the part store gone.
        self.btctl("set", tid[:8], "--files", "0-5=normal")
        status = daemon.wait_state(tid, "seeding", TIMEOUT)
        self.assertEqual(status["size"], sum(size for _, size in LAYOUT))
        H.compare_trees(folder, out)
        self.assertEqual(os.listdir(self.dl), ["sel"])


if __name__ == "__main__":
    unittest.main()
