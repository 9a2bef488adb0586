#!/usr/bin/python3
"""btd seeds a complete single file it finds on disk; a libtorrent leecher downloads it.

btd hash-checks the existing data, logs that it seeds, announces as a seed; the leecher finds
it through the HTTP tracker and gets every byte from btd (btd is the only seed).
"""

import os
import unittest

import harness as H


class SeedSingleFile(unittest.TestCase):
    def test_btd_seeds_single_file(self):
        size = 8 * H.MIB + 1234  # last piece is short
        name = "seeded.bin"
        with H.Swarm(H.layout_single(size, name), name, tracker="http") as sw, \
                H.BtdPeer(sw.torrent, sw.src_dir) as btd:
            btd.wait_seeding(60)
            H.wait_for_tracker_seeds(sw.tracker, sw.info_hash, 1)
            leecher = H.lt_leecher(sw.torrent, sw.dl_dir)
            try:
                leecher.wait_for_line("DONE", H.LEECH_TIMEOUT)
            finally:
                leecher.stop()
            sw.check_download()
            H.assert_all_from_btd(leecher, size)
            self.assertTrue(btd.running(), "btd stopped seeding:\n" + btd.tail())
            self.assertEqual(btd.stop(), 0, "btd --seed should exit 0 on SIGTERM:\n" + btd.tail())
            # Seeding must not touch the data it serves.
            self.assertEqual(os.path.getsize(sw.content), size)


if __name__ == "__main__":
    unittest.main()
