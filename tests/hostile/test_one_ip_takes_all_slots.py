#!/usr/bin/python3
"""Issue 8 item 5: one address cannot take every peer slot, and btd always keeps room to dial.

Two flooders (127.0.0.2 and 127.0.0.3) each try to hold 40 connections to btd, every one with
its own peer id, sending have_none and keep-alives, reconnecting at once when btd closes one.
The only real seed (libtorrent) is known to btd from the tracker but comes up only after the
flood has started. Before the fix the flood took all 60 slots: btd refused the seed's incoming
connection and never dialled it again (connect_more stopped at a full peer list), so nothing
was downloaded for at least a minute. Now one loopback address gets at most half the slots
(peer_policy::per_address_limit), incoming peers never fill the slots kept for dialling
(peer_policy::incoming_slot_limit), so btd dials the seed and completes, byte-exact.
"""

import os
import time
import unittest

import hostile_common  # noqa: F401  (sets up the import path)
from hostile_common import harness as H
import peer_fakes as F

MAX_PEERS = 60  # btd's default max_peers_per_torrent
PER_ADDRESS = MAX_PEERS // 2  # loopback share of one address
FLOOD_PER_ADDRESS = 40
DOWNLOAD_BOUND_S = 45  # from the seed's start; before the fix nothing moved for >= 60 s


class OneIpTakesAllSlots(unittest.TestCase):
    def test_flood_from_one_address_leaves_room_for_a_real_seed(self):
        size = 4 * H.MIB + 777
        with H.Swarm(H.layout_single(size, "flood.bin"), "flood.bin") as sw:
            seed_port = H.free_port()
            # The tracker lists the seed before it runs: btd's first dial fails, later ones must
            # still happen although the flood is there.
            F.announce(sw.tracker.port, sw.info_hash, seed_port)
            btd = H.BtdPeer(sw.torrent, sw.dl_dir, seed=False, log_level="debug").start()
            self.addCleanup(btd.stop)
            H.wait_for_tcp(btd.port, 30, btd.proc)
            flooders = [F.Flooder(btd.port, sw.info_hash, source, FLOOD_PER_ADDRESS).start()
                        for source in ("127.0.0.2", "127.0.0.3")]
            for f in flooders:
                self.addCleanup(f.close)
            deadline = time.monotonic() + 15
            while sum(f.open_now() for f in flooders) < 50 and time.monotonic() < deadline:
                self.assertTrue(btd.running(), "btd exited:\n" + btd.tail())
                time.sleep(0.2)
            held = [f.open_now() for f in flooders]
            H.log(f"flood holds {held} connections")
            self.assertGreaterEqual(sum(held), 40, "the flood never got going\n" + btd.tail())

            seed = H.LtPeer(sw.torrent, sw.src_dir, mode="seed", port=seed_port).start()
            self.addCleanup(seed.stop)
            seed.wait_ready(60)
            started = time.monotonic()
            try:
                rc = btd.proc.wait(timeout=DOWNLOAD_BOUND_S)
            except Exception:
                rc = None
            took = time.monotonic() - started
            most = [f.max_open() for f in flooders]
            H.log(f"download ended {took:.1f}s after the seed started (rc {rc}); "
                  f"most flood connections held at once: {most}")
            self.assertEqual(rc, 0, f"btd did not complete within {DOWNLOAD_BOUND_S}s beside "
                             f"the flood (held {held})\n" + btd.tail())
            H.compare_trees(sw.content, os.path.join(sw.dl_dir, sw.name))
            for source, n in zip(("127.0.0.2", "127.0.0.3"), most):
                self.assertLessEqual(n, PER_ADDRESS, f"{source} held {n} connections at once")


if __name__ == "__main__":
    unittest.main()
