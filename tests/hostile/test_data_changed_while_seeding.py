#!/usr/bin/python3
"""Issue 8, item 11: data changed on disk while btd seeds it.

btd seeds 8 MiB (32 pieces). A raw peer downloads a block of piece 5 (the original bytes).
Then (a) bytes of piece 5 are overwritten in place, or (b) the file is replaced by a copy with
changed bytes in piece 9 (new inode, same size), or (c) while btd is stopped, by a copy with
changed bytes in piece 3 and the same size and mtime (to the nanosecond), which the resume data
must not vouch for. The raw peer asks for those blocks again, and a
fresh raw peer asks after btd had time to notice: no block with the changed bytes may ever be
sent. btd must re-check the file and stop offering the changed piece (its `pieces` show it
missing) while every other piece stays had and is served right.
"""

import os
import signal
import struct
import time
import unittest

import hostile_common  # noqa: F401  (sets up the import path)
from hostile_common import harness as H
from integrity_common import TorrentLayout, assert_claims_hold
import raw_peer as R
from test_daemon_lifecycle import BtdDaemon

NAME = "changed.bin"
SIZE = 8 * H.MIB
PIECE = 256 * H.KIB
TIMEOUT = 120
RECHECK_TIMEOUT = 90  # btd looks at its files at least every 30 s


class DataChangedWhileSeeding(unittest.TestCase):
    def setUp(self):
        H.btd_binary()
        self._tmp = H.TempDir(prefix="btd-changed-")
        self.dir = self._tmp.__enter__()
        self.addCleanup(self._tmp.__exit__, None, None, None)
        self.dl = os.path.join(self.dir, "download")
        H.make_payload(self.dl, H.layout_single(SIZE, NAME), seed=11)
        self.path = os.path.join(self.dl, NAME)
        with open(self.path, "rb") as f:
            self.original = f.read()
        self.torrent, self.id = H.make_torrent(self.path, [],
                                               out_path=os.path.join(self.dir, "t.torrent"))
        self.layout = TorrentLayout(self.torrent)
        self.daemon = BtdDaemon(os.path.join(self.dir, "state"), self.dl)
        self.addCleanup(self.daemon.stop)
        self.daemon.start()
        self.daemon.add(self.torrent)
        self.daemon.wait_state(self.id, "seeding", TIMEOUT)
        self.port = self.daemon.rpc("session.get")["listen_port"]

    def connect(self):
        peer = R.RawPeer(self.port, self.id, timeout=15)
        self.addCleanup(peer.close)
        peer.handshake()
        peer.interested()
        peer.recv_until(R.UNCHOKE, timeout=30)
        return peer

    def original_block(self, piece, begin):
        start = piece * PIECE + begin
        return self.original[start:start + R.BLOCK]

    def blocks_served(self, peer, requests, duration=5):
        """Sends the requests; returns {(piece, begin): payload} of the blocks that came back."""
        try:
            peer.send_raw(b"".join(peer.request_bytes(p, b) for p, b in requests))
        except R.PeerClosed:
            return {}
        got = {}
        for m in peer.recv_all(duration):
            if m.id == R.PIECE:
                index, begin = struct.unpack(">II", m.payload[:8])
                got[(index, begin)] = m.payload[8:]
        return got

    def assert_only_original_bytes(self, got, when):
        for (piece, begin), data in got.items():
            self.assertTrue(data == self.original_block(piece, begin),
                            f"{when}: btd served changed bytes of piece {piece} at {begin}")

    def wait_piece_dropped(self, piece):
        deadline = time.monotonic() + RECHECK_TIMEOUT
        while time.monotonic() < deadline:
            details = self.daemon.rpc("torrent.get", {"id": self.id})
            if details["pieces"][piece] == "0" and details["state"] != "checking":
                return details
            time.sleep(0.5)
        self.fail(f"piece {piece} still listed as had {RECHECK_TIMEOUT}s after it changed\n"
                  + self.daemon.log()[-3000:])

    def check_after_recheck(self, piece):
        details = self.wait_piece_dropped(piece)
        others = [p for p, f in enumerate(details["pieces"]) if f == "0"]
        self.assertEqual(others, [piece], "only the changed piece may be missing")
        assert_claims_hold(self, self.daemon, self.id, self.layout, self.dl, "after re-check")
        peer = self.connect()
        got = self.blocks_served(peer, [(piece, 0), (piece + 1, 0), (0, 0)])
        self.assert_only_original_bytes(got, "after re-check")
        self.assertNotIn((piece, 0), got)
        self.assertIn((piece + 1, 0), got, "unchanged pieces must still be served")

    def test_bytes_changed_in_place(self):
        peer = self.connect()
        got = self.blocks_served(peer, [(5, 0)])
        self.assertEqual(got.get((5, 0)), self.original_block(5, 0))

        with open(self.path, "r+b") as f:  # same inode, new bytes, new mtime
            f.seek(5 * PIECE + 100)
            f.write(b"CHANGED ON DISK" * 10)
        got = self.blocks_served(peer, [(5, 0), (5, R.BLOCK), (6, 0)])
        self.assert_only_original_bytes(got, "right after the change")
        self.check_after_recheck(5)

    def test_file_replaced(self):
        peer = self.connect()
        got = self.blocks_served(peer, [(9, 0)])
        self.assertEqual(got.get((9, 0)), self.original_block(9, 0))

        changed = bytearray(self.original)
        changed[9 * PIECE + 10:9 * PIECE + 20] = b"X" * 10
        tmp = self.path + ".new"
        with open(tmp, "wb") as f:
            f.write(changed)
        os.replace(tmp, self.path)  # another inode, same size
        got = self.blocks_served(peer, [(9, 0), (10, 0)])
        self.assert_only_original_bytes(got, "right after the replacement")
        self.check_after_recheck(9)

    def test_file_replaced_while_stopped_with_same_size_and_mtime(self):
        """The resume data must not be trusted for another inode, even one that looks alike."""
        rc, _ = self.daemon.signal_and_wait(signal.SIGTERM, timeout=30)
        self.assertEqual(rc, 0)
        st = os.stat(self.path)
        changed = bytearray(self.original)
        changed[3 * PIECE + 7:3 * PIECE + 17] = b"Y" * 10
        tmp = self.path + ".new"
        with open(tmp, "wb") as f:
            f.write(changed)
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime to the ns
        os.replace(tmp, self.path)
        self.daemon.start()
        deadline = time.monotonic() + TIMEOUT
        while True:
            details = assert_claims_hold(self, self.daemon, self.id, self.layout, self.dl,
                                         "after a restart over a replaced file")
            # queued: a restored torrent waits for the queue's next decision (at most 1 s).
            if details["state"] not in ("checking", "queued"):
                break
            self.assertLess(time.monotonic(), deadline, "still checking")
            time.sleep(0.2)
        self.assertEqual([p for p, f in enumerate(details["pieces"]) if f == "0"], [3])
        self.port = self.daemon.rpc("session.get")["listen_port"]
        got = self.blocks_served(self.connect(), [(3, 0), (4, 0)])
        self.assert_only_original_bytes(got, "after the restart")
        self.assertNotIn((3, 0), got)


if __name__ == "__main__":
    unittest.main()
