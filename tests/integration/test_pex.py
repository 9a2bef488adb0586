#!/usr/bin/python3
"""Peer exchange (BEP 11 ut_pex) between btd and libtorrent, both ways.

1. btd learns a seeder it was never told about: seeders A and B (libtorrent) are connected to
   each other; only A announces to the tracker. A names B to btd by PEX; btd dials B, shows it
   with source `pex` in torrent.get, and B uploads to btd (every byte compared).
2. btd names its peers to a libtorrent leecher: btd downloads from seeder S (tracker); a
   libtorrent leecher L with no tracker connects to btd only. btd's PEX names S to L, which
   connects to S with libtorrent's own source flag `pex`; L gets at most one PEX message from btd
   in the window (libtorrent disconnects peers that send more than 6 in 60 s), and completes.
"""

import os
import socket
import struct
import time
import unittest

import harness as H
import libtorrent as lt
import raw_peer as R
from lt_node import LtNode
from test_daemon_lifecycle import BtdDaemon


def peer_sources(btd, torrent_id):
    """{"ip:port": source} of btd's connected peers."""
    details = btd.rpc("torrent.get", {"id": torrent_id})
    return {p["address"]: p.get("source") for p in details["peers"]}


class Pex(unittest.TestCase):
    def test_btd_learns_a_seeder_only_pex_named(self):
        size = 8 * H.MIB
        with H.Swarm(H.layout_single(size, "learned.bin"), "learned.bin") as sw, \
                H.TempDir() as tmp:
            untracked = os.path.join(sw.dir, "probe.torrent")  # same info-hash, no tracker
            # Both are slow, so btd still downloads when B is named, needs B's bytes, and is seen
            # connected to it (loopback would finish in a blink). B takes
            # no PEX: told about btd by A, it could dial btd before btd dials it.
            with LtNode(sw.torrent, sw.src_dir, upload_limit=256 * H.KIB,
                        keep_seed_links=True) as a, \
                    LtNode(untracked, sw.src_dir, upload_limit=1 * H.MIB, keep_seed_links=True,
                           pex=False) as b:
                a.wait_seeding()
                b.wait_seeding()
                a.wait(lambda: a.tracker_replies > 0, 30, "tracker reply")
                b.connect(a.port)
                b.wait(lambda: a.port in b.peers, 30, "connection to A")
                btd = BtdDaemon(os.path.join(tmp, "state"), os.path.join(tmp, "dl")).start()
                try:
                    tid = btd.add(sw.torrent)["id"]
                    seen, info_row = {}, None
                    deadline = time.monotonic() + 120
                    while time.monotonic() < deadline:
                        seen.update(peer_sources(btd, tid))
                        if info_row is None and f"127.0.0.1:{b.port}" in seen:
                            out = H.run_btctl(["info", tid[:8]], state_dir=btd.state_dir)
                            info_row = next((line for line in out.stdout.splitlines()
                                             if f"127.0.0.1:{b.port}" in line), "")
                        if btd.status(tid)["state"] == "seeding":
                            break
                        time.sleep(0.2)
                    self.assertEqual(btd.status(tid)["state"], "seeding", btd.log()[-4000:])
                    H.compare_trees(sw.content, os.path.join(tmp, "dl", "learned.bin"))
                    H.log(f"btd's peers and their sources: {seen}")
                    self.assertEqual(seen.get(f"127.0.0.1:{a.port}"), "tracker")
                    self.assertEqual(seen.get(f"127.0.0.1:{b.port}"), "pex",
                                     "btd never connected to B, which only PEX named")
                    b.poll()
                    uploaded_by_b = b.status().total_payload_upload
                    H.log(f"B uploaded {uploaded_by_b} bytes")
                    self.assertGreater(uploaded_by_b, 0, "no bytes came from B")
                    H.log(f"btctl info's row for B: {info_row!r}")
                    self.assertIn(" pex ", f" {info_row} ")
                finally:
                    btd.stop()

    def test_libtorrent_learns_a_peer_from_btd(self):
        size = 8 * H.MIB
        with H.Swarm(H.layout_single(size, "named.bin"), "named.bin") as sw, \
                H.TempDir() as tmp:
            untracked = os.path.join(sw.dir, "probe.torrent")
            leech_dir = os.path.join(tmp, "leech")
            os.makedirs(leech_dir)
            # S takes no PEX: told about the leecher by btd, it could dial it first.
            with LtNode(sw.torrent, sw.src_dir, upload_limit=1 * H.MIB, keep_seed_links=True,
                        pex=False) as s:
                s.wait_seeding()
                s.wait(lambda: s.tracker_replies > 0, 30, "tracker reply")
                btd = BtdDaemon(os.path.join(tmp, "state"), os.path.join(tmp, "dl")).start()
                try:
                    tid = btd.add(sw.torrent)["id"]
                    s.wait(lambda: len(s.connected_ports()) > 0, 60, "connection from btd")
                    btd_port = btd.rpc("session.get")["listen_port"]
                    with LtNode(untracked, leech_dir, download_limit=1 * H.MIB,
                                peer_log=True) as leecher:
                        leecher.connect(btd_port)
                        window = time.monotonic()
                        leecher.wait(lambda: leecher.peers.get(s.port, 0) & lt.peer_info.pex,
                                     30, "peer S learned by PEX")
                        leecher.wait_seeding(120)
                        window = time.monotonic() - window
                        from_btd = leecher.pex_from.get(f"127.0.0.1:{btd_port}", 0)
                        H.log(f"leecher: peers {leecher.peers}, PEX messages {leecher.pex_from}"
                              f" in {window:.1f} s")
                        self.assertIn(btd_port, leecher.peers)
                        self.assertLess(window, 60)
                        self.assertEqual(from_btd, 1, "btd sends at most one PEX a minute")
                    H.compare_trees(sw.content, os.path.join(leech_dir, "named.bin"))
                finally:
                    btd.stop()

    def test_private_torrent_neither_offers_nor_uses_pex(self):
        """A raw peer reads btd's extension handshake and sends it a PEX message naming a port
        the test listens on: for a public torrent btd offers ut_pex and dials the named peer;
        for a private one (BEP 27) it offers nothing and dials nobody."""
        with H.TempDir() as tmp:
            btd = BtdDaemon(os.path.join(tmp, "state"), os.path.join(tmp, "dl")).start()
            try:
                port = btd.rpc("session.get")["listen_port"]
                for private in (False, True):
                    torrent = make_torrent(tmp, "private" if private else "public", private)
                    info_hash = btd.add(torrent)["id"]
                    btd.wait_state(info_hash, "downloading", 30)
                    offered, dialled = offer_and_name(port, info_hash)
                    H.log(f"private={private}: ut_pex offered {offered}, named peer dialled "
                          f"{dialled}")
                    self.assertEqual(offered, not private)
                    self.assertEqual(dialled, not private)
            finally:
                btd.stop()


def make_torrent(tmp, name, private):
    root = H.make_payload(os.path.join(tmp, name), H.layout_single(64 * H.KIB, name + ".bin"))
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(root, name + ".bin"))
    ct = lt.create_torrent(fs, 16 * H.KIB, flags=lt.create_torrent.v1_only)
    ct.set_priv(private)
    lt.set_piece_hashes(ct, root)
    path = os.path.join(tmp, name + ".torrent")
    with open(path, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    return path


def offer_and_name(port, info_hash, wait=8.0):
    """(btd offered ut_pex, btd dialled the peer our PEX message named within `wait` s)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(wait)
    named = listener.getsockname()[1]
    with listener, R.RawPeer(port, info_hash) as peer:
        peer.handshake()
        theirs = next(m for m in peer.recv_until(R.EXTENDED) if m.id == R.EXTENDED and m.payload[:1] == b"\0")
        offers = lt.bdecode(theirs.payload[1:]).get(b"m", {})
        peer.send(R.EXTENDED, b"\0" + lt.bencode({"m": {"ut_pex": 3}}))
        # A hostile peer may send PEX unasked: under the id btd uses for it when offered.
        pex_id = offers.get(b"ut_pex", 1)
        added = socket.inet_aton("127.0.0.1") + struct.pack(">H", named)
        peer.send(R.EXTENDED, bytes([pex_id]) + lt.bencode(
            {"added": added, "added.f": b"\x10", "dropped": b""}))
        try:
            conn, _ = listener.accept()
            conn.close()
            dialled = True
        except socket.timeout:
            dialled = False
        return b"ut_pex" in offers, dialled


if __name__ == "__main__":
    unittest.main()
