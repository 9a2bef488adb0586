#!/usr/bin/python3
"""A mixed swarm: one libtorrent seeder capped at 2 MiB/s, btd and two libtorrent leechers, all
starting empty at the same time.

The seeder alone would need 3 x 16 MiB / 2 MiB/s = 24 s to serve three copies, so the leechers
trade pieces among themselves. All three must end byte-identical to the source, and btd must
have uploaded to the libtorrent leechers: their per-peer counters (blocks received from peers
whose peer id starts with -BD) show it, whatever btd says about itself.
"""

import os
import time
import unittest

import harness as H

SIZE = 16 * H.MIB + 4321
SEEDER_LIMIT = 2 * H.MIB


class MixedSwarm(unittest.TestCase):
    def test_btd_trades_with_libtorrent_leechers(self):
        name = "swarm.bin"
        with H.Swarm(H.layout_single(SIZE, name), name, tracker="http") as sw:
            sw.add_seeder(upload_limit=SEEDER_LIMIT)
            btd_dir = os.path.join(sw.dir, "btd")
            lt_dirs = [os.path.join(sw.dir, f"lt{i}") for i in range(2)]
            start = time.monotonic()
            with H.BtdPeer(sw.torrent, btd_dir) as btd:
                leechers = [H.lt_leecher(sw.torrent, d) for d in lt_dirs]
                try:
                    btd.wait_seeding(H.LEECH_TIMEOUT)
                    H.log(f"btd complete after {time.monotonic() - start:.1f}s")
                    for leecher in leechers:
                        leecher.wait_for_line("DONE", H.LEECH_TIMEOUT)
                    H.log(f"all complete after {time.monotonic() - start:.1f}s")
                finally:
                    for leecher in leechers:
                        leecher.stop()
                self.assertTrue(btd.running(), "btd stopped seeding:\n" + btd.tail())
                self.assertEqual(btd.stop(), 0, "btd --seed: exit 0 on SIGTERM\n" + btd.tail())
            for d in [btd_dir] + lt_dirs:
                H.compare_trees(sw.content, os.path.join(d, name))
                H.assert_only_entry(d, name)
            (seeder,) = sw.stop_seeders()
            from_btd = [H.btd_peer_bytes(leecher)[0] for leecher in leechers]
            H.log(f"seeder uploaded {seeder.get('up')}; libtorrent leechers got from btd: "
                  f"{from_btd}")
            self.assertGreater(sum(from_btd), 0, "btd uploaded nothing to the libtorrent leechers")


if __name__ == "__main__":
    unittest.main()
