#!/usr/bin/python3
"""File priorities and sequential download, against a python3-libtorrent seeder.

1. Selective download: a folder of four files; btd is told (btctl set --files) to skip two of
   them before it starts. It must finish ("seeding") with the two wanted files byte-identical,
   fetch little more than those, never create the skipped file that shares no piece with a
   wanted one, keep the choice over a restart, and fetch the rest once the files are wanted
   again (then every file compared).
2. Sequential: with `btctl set --sequential on`, pieces must arrive in index order: the verified
   pieces form a prefix (up to a few in flight), which rarest-first with its random tie-break
   would not give.

Needs BTD_BIN and BTCTL_BIN (ctest sets both).
"""

import json
import os
import time
import unittest

import harness as H
from test_daemon_lifecycle import BtdDaemon

PIECE = 256 * H.KIB
# a and c are wanted; b (between them) and d (at the end) are skipped. c ends on a piece
# boundary, so d shares no piece with a wanted file and must never be created.
LAYOUT = [
    ("a.bin", 3 * H.MIB + 1000),
    ("b.bin", 4 * H.MIB + 5000),
    ("c.bin", 2 * H.MIB + (PIECE - (7 * H.MIB + 6000) % PIECE) % PIECE),
    ("d.bin", 1 * H.MIB + 77),
]
SEQ_SIZE = 32 * H.MIB
SEQ_PIECE = 128 * H.KIB
TIMEOUT = H.LEECH_TIMEOUT


def make_ordered_torrent(root, name, layout, trackers, out_path):
    """A v1 .torrent of root/name/* with the files in exactly the order of `layout` (add_files
    would take the directory's order)."""
    import libtorrent as lt

    fs = lt.file_storage()
    for rel, size in layout:
        fs.add_file(f"{name}/{rel}", size)
    ct = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v1_only)
    for tier, url in enumerate(trackers):
        ct.add_tracker(url, tier)
    lt.set_piece_hashes(ct, root)
    with open(out_path, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    return out_path, str(lt.torrent_info(out_path).info_hash())


class FileSelection(unittest.TestCase):
    def setUp(self):
        H.btctl_binary()
        self._tmp = H.TempDir(prefix="btd-select-")
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

    def seed(self, make, upload_limit):
        """make(trackers, out_path) -> (torrent, info-hash); a libtorrent seeder starts on it."""
        _, info_hash = make([], os.path.join(self.dir, "probe.torrent"))
        tracker = H.Tracker([info_hash]).__enter__()
        self.addCleanup(tracker.__exit__, None, None, None)
        torrent, tid = make([tracker.http_url], os.path.join(self.dir, "t.torrent"))
        self.assertEqual(tid, info_hash)
        peer = H.LtPeer(torrent, self.src, mode="seed", upload_limit=upload_limit).start()
        self.addCleanup(peer.stop)
        peer.wait_ready(60)
        return torrent, tid

    def start_daemon(self):
        daemon = BtdDaemon(self.state, self.dl)
        self.addCleanup(daemon.stop)
        return daemon.start()

    def test_skipped_files_are_not_downloaded_until_wanted(self):
        folder = os.path.join(self.src, "sel")
        H.make_payload(folder, LAYOUT, seed=5)
        torrent, tid = self.seed(lambda trackers, out: make_ordered_torrent(
            self.src, "sel", LAYOUT, trackers, out), upload_limit=8 * H.MIB)
        daemon = self.start_daemon()

        self.btctl("add", "--paused", torrent)
        names = [f["path"].split("/")[-1] for f in self.info(tid)["files"]]
        self.assertEqual(names, [name for name, _ in LAYOUT])
        self.btctl("set", tid[:8], "--files", "1,3=skip", "--files", "2=high")
        info = self.info(tid)
        self.assertEqual([f["priority"] for f in info["files"]], [4, 0, 7, 0])
        wanted = LAYOUT[0][1] + LAYOUT[2][1]
        self.assertEqual(info["size"], wanted)
        self.assertEqual(info["total_size"], sum(s for _, s in LAYOUT))
        self.assertIn("skip", self.btctl("info", tid))

        self.btctl("resume", tid[:8])
        status = daemon.wait_state(tid, "seeding", TIMEOUT)
        self.assertEqual(status["progress"], 1.0)
        self.assertEqual(status["have_bytes"], wanted)
        out = os.path.join(self.dl, "sel")
        for i in (0, 2):
            name = LAYOUT[i][0]
            H.compare_trees(os.path.join(folder, name), os.path.join(out, name))
        self.assertFalse(os.path.exists(os.path.join(out, "d.bin")),
                         "d.bin shares no piece with a wanted file")
        info = self.info(tid)
        files = info["files"]
        self.assertLess(files[1]["have_bytes"], 2 * PIECE, files)  # only the shared pieces
        self.assertEqual(files[3]["have_bytes"], 0)
        # What came over the wire: the wanted files plus at most the two shared pieces (and
        # a little slack for blocks raced at the end).
        self.assertLessEqual(info["downloaded"], wanted + 2 * PIECE + 16 * 16 * H.KIB)
        b_path = os.path.join(out, "b.bin")
        if os.path.exists(b_path):  # only the head and tail that share pieces with a and c
            with open(os.path.join(folder, "b.bin"), "rb") as f:
                b_src = f.read()
            with open(b_path, "rb") as f:
                b_dl = f.read()
            head = PIECE - LAYOUT[0][1] % PIECE
            self.assertEqual(b_dl[:head], b_src[:head])

        # A restart keeps the selection and does not re-check or download anything.
        rc, _ = daemon.signal_and_wait()
        self.assertEqual(rc, 0)
        daemon.start()
        status = daemon.wait_state(tid, "seeding", 30)
        self.assertEqual([f["priority"] for f in self.info(tid)["files"]], [4, 0, 7, 0])
        self.assertEqual(status["size"], wanted)
        self.assertNotIn("sel: now checking", daemon.log())

        # Wanting everything again: back to downloading, then every byte of every file.
        self.btctl("set", tid[:8], "--files", "0-3=normal")
        self.assertEqual([f["priority"] for f in self.info(tid)["files"]], [4, 4, 4, 4])
        status = daemon.wait_state(tid, "seeding", TIMEOUT)
        self.assertEqual(status["size"], sum(s for _, s in LAYOUT))
        H.compare_trees(folder, out)

    def test_sequential_download_fills_pieces_in_order(self):
        H.make_payload(self.src, H.layout_single(SEQ_SIZE, "seq.bin"), seed=9)
        torrent, tid = self.seed(lambda trackers, out: H.make_torrent(
            os.path.join(self.src, "seq.bin"), trackers, piece_length=SEQ_PIECE, out_path=out),
            upload_limit=4 * H.MIB)
        daemon = self.start_daemon()
        self.btctl("add", "--paused", torrent)
        self.btctl("set", tid[:8], "--sequential", "on")
        self.assertTrue(self.info(tid)["sequential"])
        self.btctl("resume", tid[:8])

        samples = []  # (pieces had, pieces had beyond the first missing one)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            info = daemon.rpc("torrent.get", {"id": tid})
            pieces = info["pieces"]
            have = pieces.count("1")
            first_missing = pieces.find("0")
            if first_missing < 0:
                break
            samples.append((have, have - first_missing))
            time.sleep(0.25)
        daemon.wait_state(tid, "seeding", TIMEOUT)
        H.compare_trees(os.path.join(self.src, "seq.bin"), os.path.join(self.dl, "seq.bin"))

        num_pieces = SEQ_SIZE // SEQ_PIECE
        judged = [s for s in samples if s[0] >= num_pieces // 4]
        H.log(f"sequential samples (have, beyond first missing): {samples}")
        self.assertGreaterEqual(len(judged), 3, f"too few samples mid-download: {samples}")
        # Rarest-first would leave almost every verified piece beyond the first hole. In order,
        # only the pieces in flight while the hole is hashed and written lie beyond it (a
        # loaded machine can stretch that to some tens of pieces for a moment).
        beyond = sorted(b for _, b in judged)
        self.assertLessEqual(beyond[len(beyond) // 2], 4, f"pieces not in order: {judged}")
        for have, b in judged:
            self.assertLessEqual(b, have // 4, f"pieces not in order: {judged}")


if __name__ == "__main__":
    unittest.main()
