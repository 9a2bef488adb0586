#!/usr/bin/python3
"""btd seeds to other clients at full speed (issue 9 item 4).

- Transmission (`transmission-cli` 3.00, a fresh config dir, no DHT/LSD/PeX/UPnP) downloads a
  16 MiB torrent from a btd seeder completely, every byte compared. Transmission drops peers
  at 127.x that a tracker names, so it starts first and btd connects to it (see
  leecher_clients.py). Skipped when transmission-cli is not installed.
- btd's extension handshake advertises a request queue (`reqq`) of at least 2000, libtorrent's
  value: a leecher that keeps `reqq` requests in flight (Transmission does) is held to
  reqq x 16 KiB per round trip.
- A peer that connects gets an unchoke at once while btd has a free upload slot, before it says
  `interested` (as libtorrent does), and a request sent right after is served; `not
  interested` takes the slot back.
"""

import os
import time
import unittest

import harness as H
import leecher_clients as C
import raw_peer as R

PIECE = 256 * H.KIB
SIZE = 16 * H.MIB + 4321
TIMEOUT = 180


def extension_handshake(msgs):
    """The bdecoded BEP 10 handshake among `msgs`, or None."""
    import libtorrent as lt

    for m in msgs:
        if m.id == R.EXTENDED and m.payload[:1] == b"\0":
            return lt.bdecode(m.payload[1:])
    return None


class SeedClients(unittest.TestCase):
    def test_transmission_downloads_everything_from_btd(self):
        client = C.TransmissionCli()
        why = client.missing()
        if why:
            self.skipTest(why)
        with H.Swarm(H.layout_single(SIZE, "target.bin"), "target.bin",
                     piece_length=PIECE) as sw:
            os.makedirs(sw.dl_dir, exist_ok=True)
            seeders = []

            def start_btd():
                btd = H.BtdPeer(sw.torrent, sw.src_dir).start()
                seeders.append(btd)
                btd.wait_seeding(60)
                return btd

            try:
                start = time.monotonic()
                wall, btd = C.download(client, sw.torrent, sw.dl_dir, sw.dir, sw.tracker,
                                       sw.info_hash, start_btd, TIMEOUT)
                H.log(f"transmission: {SIZE / H.MIB:.0f} MiB from btd in {wall:.2f} s after its "
                      f"first data ({time.monotonic() - start:.1f} s in all)")
                self.assertTrue(btd.running(), "btd died:\n" + btd.tail(60))
            finally:
                for s in seeders:
                    s.stop()
            H.compare_trees(sw.content, os.path.join(sw.dl_dir, "target.bin"))

    def test_reqq_and_unchoke_at_connect(self):
        with H.Swarm(H.layout_single(4 * H.MIB, "target.bin"), "target.bin",
                     piece_length=PIECE) as sw:
            with open(sw.content, "rb") as f:
                data = f.read()
            btd = H.BtdPeer(sw.torrent, sw.src_dir).start()
            self.addCleanup(btd.stop)
            btd.wait_seeding(60)
            with R.RawPeer(btd.port, sw.info_hash, fast=True) as peer:
                peer.handshake()
                opening = peer.recv_all(1.0)  # have_all, extended, allowed_fast, unchoke
                names = [m.name for m in opening]
                ext = extension_handshake(opening)
                self.assertIsNotNone(ext, f"no extension handshake in {names}")
                self.assertGreaterEqual(ext.get(b"reqq", 0), 2000, f"handshake {ext}")
                self.assertIn("unchoke", names, "no unchoke before `interested`")
                self.assertTrue(peer.unchoked_by_remote, names)
                # Served without `interested` (a piece outside the allowed-fast set).
                allowed = R.parse_allowed_fast(opening)
                piece = next(i for i in range(16) if i not in allowed)
                peer.request(piece, 0, R.BLOCK)
                got = peer.recv_until(R.PIECE, timeout=10)[-1]
                self.assertEqual(got.triple(), (piece, 0, R.BLOCK))
                self.assertEqual(got.payload[8:], data[piece * PIECE:piece * PIECE + R.BLOCK])
                # `not interested`: the slot goes back.
                peer.send(R.NOT_INTERESTED)
                peer.recv_until(R.CHOKE, timeout=10)
            self.assertTrue(btd.running(), "btd died:\n" + btd.tail(60))


if __name__ == "__main__":
    unittest.main()
