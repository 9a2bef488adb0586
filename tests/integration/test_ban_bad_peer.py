#!/usr/bin/python3
"""btd bans a peer that keeps sending bad data, by endpoint, and never dials it again.

A hostile seeder (hostile_seeder.py: full bitfield, unchokes, every block it sends is wrong)
announces itself through the tracker. btd (one-shot `--download`) connects to it, gets pieces
that fail their hash check, and must ban it (Torrent::on_piece_failed: 2 strikes per bad piece
from a sole contributor, ban at 4): btd closes the connection after a few bad pieces and does
not connect to that ip:port again. Without the ban btd would redial after its 10 s back-off,
so a 20 s watch with btd still running tells the two apart.

Second case: the same hostile seeder plus a good libtorrent seeder (same IP, other port): the
download completes, every byte compared; only the hostile endpoint is banned.

Third case: the hostile peer connects to btd itself. After the ban, connecting again from a new
port (same peer id; on loopback the peer id names the offender, elsewhere the IP address) is
refused before btd even answers the handshake.
"""

import re
import time
import unittest

import harness as H
from hostile_seeder import HostileSeeder

PIECE = 256 * H.KIB
BTD = b"-BD"  # btd's peer id prefix
WATCH_S = 20  # after the ban: btd must not reconnect within this


def failed_pieces(text):
    return set(int(p) for p in re.findall(r"piece (\d+) failed its hash check", text))


class BanBadPeer(unittest.TestCase):
    def start_hostile(self, sw, size):
        hostile = HostileSeeder(sw.info_hash, (size + PIECE - 1) // PIECE, PIECE, size).start()
        self.addCleanup(hostile.close)
        hostile.announce(sw.tracker.port)
        return hostile

    def test_hostile_alone_is_banned_and_never_redialled(self):
        size = 8 * H.MIB
        with H.Swarm(H.layout_single(size, "ban.bin"), "ban.bin", piece_length=PIECE) as sw:
            hostile = self.start_hostile(sw, size)
            H.wait_for_tracker_seeds(sw.tracker, sw.info_hash, 1)
            btd = H.BtdPeer(sw.torrent, sw.dl_dir, seed=False, log_level="debug").start()
            self.addCleanup(btd.stop)

            # The first connection must be closed by btd within a bounded time.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                conns = hostile.snapshot(BTD)
                if conns and conns[0].closed_at is not None:
                    break
                self.assertTrue(btd.running(), "btd exited:\n" + btd.tail())
                time.sleep(0.1)
            conns = hostile.snapshot(BTD)
            self.assertTrue(conns, "btd never connected to the hostile seeder\n" + btd.tail())
            first = conns[0]
            self.assertIsNotNone(first.closed_at, "btd kept the hostile connection open for 30 s "
                                 f"({first.blocks_sent} bad blocks sent)\n" + btd.tail())
            self.assertTrue(first.handshake_ok)
            self.assertTrue(first.closed_by_remote, "the connection ended, but not by btd")
            self.assertGreater(first.blocks_sent, 0, "btd requested nothing from the hostile peer")
            took = first.closed_at - first.first_block_at
            failed = failed_pieces(btd.output())
            H.log(f"hostile: {first.blocks_sent} bad blocks in {len(first.pieces)} pieces, "
                  f"closed {took:.2f}s after the first; btd saw {len(failed)} bad pieces")
            self.assertIn(f"banning 127.0.0.1:{hostile.port} for sending bad data", btd.output())
            # Ban at 4 strikes = 2 bad pieces; pieces already hashing at that moment may add a
            # few more failures, but not many.
            self.assertGreaterEqual(len(failed), 2)
            self.assertLessEqual(len(failed), 6, f"bad pieces before the ban: {sorted(failed)}")
            self.assertLess(took, 10)

            # btd keeps running (it cannot finish) and never comes back to the banned endpoint.
            watch_end = first.closed_at + WATCH_S
            while time.monotonic() < watch_end:
                self.assertTrue(btd.running(), "btd exited:\n" + btd.tail())
                n = len(hostile.snapshot())
                self.assertEqual(n, 1, f"btd connected to the banned peer again ({n} connections, "
                                 f"{time.monotonic() - first.closed_at:.1f}s after the ban)")
                time.sleep(0.2)
            self.assertEqual(btd.stop(), 130, btd.tail())  # SIGTERM before completion

    def test_download_completes_beside_hostile_peer(self):
        size = 8 * H.MIB + 12345
        with H.Swarm(H.layout_single(size, "ban2.bin"), "ban2.bin", piece_length=PIECE) as sw:
            hostile = self.start_hostile(sw, size)
            good = sw.add_seeder(upload_limit=2 * H.MIB)  # slow, so the hostile one gets work
            H.wait_for_tracker_seeds(sw.tracker, sw.info_hash, 2)
            res = sw.download()
            sw.check_download()
            conns = hostile.snapshot(BTD)
            self.assertEqual(len(conns), 1, f"btd connected {len(conns)} times to the hostile "
                             "peer (banned after the first)")
            first = conns[0]
            H.log(f"hostile: {first.blocks_sent} bad blocks in {len(first.pieces)} pieces; "
                  f"btd saw {len(failed_pieces(res.stderr))} bad pieces")
            self.assertGreater(first.blocks_sent, 0, "btd requested nothing from the hostile peer")
            self.assertIn(f"banning 127.0.0.1:{hostile.port} for sending bad data", res.stderr)
            self.assertNotIn(f"banning 127.0.0.1:{good.port} ", res.stderr)
            self.assertTrue(first.closed_by_remote)

    def test_incoming_offender_stays_banned_when_it_reconnects(self):
        size = 8 * H.MIB
        with H.Swarm(H.layout_single(size, "ban3.bin"), "ban3.bin", piece_length=PIECE) as sw:
            hostile = HostileSeeder(sw.info_hash, size // PIECE, PIECE, size).start()
            self.addCleanup(hostile.close)
            btd = H.BtdPeer(sw.torrent, sw.dl_dir, seed=False, log_level="debug").start()
            self.addCleanup(btd.stop)
            H.wait_for_tcp(btd.port, 30)
            deadline = time.monotonic() + 30
            first = None
            while time.monotonic() < deadline:  # btd may still be checking: retry until served
                first = hostile.dial(btd.port)
                while first.closed_at is None and time.monotonic() < deadline:
                    time.sleep(0.1)
                if first.blocks_sent > 0:
                    break
                time.sleep(0.5)
            self.assertGreater(first.blocks_sent, 0, "btd never requested from the incoming peer\n"
                               + btd.tail())
            self.assertTrue(first.closed_by_remote, btd.tail())
            self.assertIn("for sending bad data", btd.output())
            H.log(f"incoming hostile: {first.blocks_sent} bad blocks, then banned")

            for attempt in range(3):  # new source port each time, same peer id
                again = hostile.dial(btd.port)
                end = time.monotonic() + 10
                while again.closed_at is None and time.monotonic() < end:
                    time.sleep(0.05)
                self.assertIsNotNone(again.closed_at, "btd kept a banned peer's connection open")
                self.assertFalse(again.handshake_ok, "btd answered a banned peer's handshake")
                self.assertEqual(again.blocks_sent, 0)
            self.assertTrue(btd.running(), btd.tail())


if __name__ == "__main__":
    unittest.main()
