#!/usr/bin/python3
"""Issue 11 item 2: peers that send corrupt or oversized metadata (BEP 9) are dropped and never
dialled again, and the magnet download still completes, every byte compared, from a good
libtorrent seeder.

Two raw peers are the magnet's only x.pe at first: one claims the right metadata_size and
answers btd's request with bytes of the right length that fail the SHA-1 check; the other
claims a 64 MiB info dictionary in its extension handshake. Only once both were dropped does
the libtorrent seeder appear (it connects to btd, and its port is in x.pe too)."""

import os
import socket
import struct
import threading
import time
import unittest

import hostile_common  # noqa: F401  (sets up the import path)
from hostile_common import harness as H
import magnet_common as M
import peer_fakes as F
import raw_peer as R
from test_daemon_lifecycle import BtdDaemon

SIZE = 2 * H.MIB + 99
OUR_UT_METADATA = 3  # the id btd must use when it sends us ut_metadata messages


def bencode(value):
    import libtorrent as lt
    return lt.bencode(value)


def bdecode(data):
    import libtorrent as lt
    return lt.bdecode(data)


class MetadataLiar(F._Server):
    """Speaks the handshake and BEP 10, then lies about the metadata (mode `corrupt` or
    `oversized`). Records the requests it got and whether btd hung up on it."""

    def __init__(self, info_hash_hex, metadata_size, mode):
        super().__init__()
        self.info_hash = bytes.fromhex(info_hash_hex)
        self.peer_id = R.make_peer_id(b"-ML0001-")
        self.metadata_size, self.mode = metadata_size, mode
        self.requests = 0
        self.bad_sent = 0
        self.hung_up = 0

    def _read_exact(self, conn, n):
        return R.read_exact(conn, n)

    def serve(self, conn):
        conn.settimeout(20)
        try:
            hs = self._read_exact(conn, 68)
            if hs[28:48] != self.info_hash:
                return
            conn.sendall(R.PROTOCOL + R.reserved_bytes(fast=False) + self.info_hash
                         + self.peer_id)
            claimed = self.metadata_size if self.mode == "corrupt" else 64 * H.MIB
            ext = bencode({"m": {"ut_metadata": OUR_UT_METADATA}, "metadata_size": claimed})
            conn.sendall(struct.pack(">IBB", len(ext) + 2, R.EXTENDED, 0) + ext)
            self._answer(conn)
        except (OSError, EOFError):
            with self.lock:
                self.hung_up += 1
        finally:
            conn.close()

    def _answer(self, conn):
        their_id = None
        while not self.stop_event.is_set():
            (length,) = struct.unpack(">I", self._read_exact(conn, 4))
            body = self._read_exact(conn, length) if length else b""
            if not body or body[0] != R.EXTENDED:
                continue
            if body[1] == 0:
                their_id = bdecode(body[2:])[b"m"].get(b"ut_metadata")
                continue
            if body[1] != OUR_UT_METADATA or their_id is None:
                continue
            piece = bdecode(body[2:])[b"piece"]
            with self.lock:
                self.requests += 1
            size = min(16 * 1024, self.metadata_size - piece * 16 * 1024)
            head = bencode({"msg_type": 1, "piece": piece, "total_size": self.metadata_size})
            payload = head + os.urandom(size)  # the right length, the wrong bytes
            conn.sendall(struct.pack(">IBB", len(payload) + 2, R.EXTENDED, their_id) + payload)
            with self.lock:
                self.bad_sent += 1


class BadMetadata(unittest.TestCase):
    def test_corrupt_and_oversized_metadata_peers_are_dropped(self):
        tmp = H.TempDir("btd-badmeta-")
        root = tmp.__enter__()
        self.addCleanup(tmp.__exit__, None, None, None)
        src, torrent, ih = M.make_content(root, "good.bin", SIZE)
        import libtorrent as lt
        with open(torrent, "rb") as f:
            info_size = len(lt.bencode(lt.bdecode(f.read())[b"info"]))
        corrupt = MetadataLiar(ih, info_size, "corrupt").start()
        self.addCleanup(corrupt.close)
        oversized = MetadataLiar(ih, info_size, "oversized").start()
        self.addCleanup(oversized.close)
        seeder = M.LtNode()
        self.addCleanup(seeder.close)

        btd = BtdDaemon(os.path.join(root, "state"), os.path.join(root, "dl"))
        self.addCleanup(btd.stop)
        btd.start()
        peers = "".join(f"&x.pe=127.0.0.1:{p}" for p in (corrupt.port, oversized.port,
                                                          seeder.port))
        btd.rpc("torrent.add", {"uri": f"magnet:?xt=urn:btih:{ih}&dn=good.bin{peers}"})

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if corrupt.bad_sent and corrupt.hung_up and oversized.hung_up:
                break
            time.sleep(0.2)
        self.assertGreaterEqual(corrupt.bad_sent, 1, "btd never asked the corrupt peer")
        self.assertGreaterEqual(corrupt.hung_up, 1, "btd kept the corrupt peer")
        self.assertGreaterEqual(oversized.hung_up, 1, "btd kept the oversized peer")
        self.assertEqual(oversized.requests, 0, "btd asked a peer claiming 64 MiB of metadata")
        job = M.wait_listed(btd, ih, lambda t: True, 10, "listed")
        self.assertEqual(job["state"], "metadata")

        seeder.seed(torrent, src)
        seeder.connect(btd.rpc("session.get")["listen_port"])
        M.wait_listed(btd, ih, lambda t: t["state"] == "seeding", 180, "download")
        H.compare_trees(os.path.join(src, "good.bin"), os.path.join(root, "dl", "good.bin"))
        log = btd.log()
        self.assertIn("failed the hash check; banned", log)
        self.assertIn("over the limit", log)
        # Banned for good: neither liar was dialled again.
        self.assertEqual(len(corrupt.times()), 1, corrupt.times())
        self.assertEqual(len(oversized.times()), 1, oversized.times())


if __name__ == "__main__":
    unittest.main()
