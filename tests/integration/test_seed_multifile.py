#!/usr/bin/python3
"""btd seeds a complete multi-file torrent (nested folders, zero-length files, 32 KiB pieces
spanning file boundaries) to two libtorrent leechers at once, found via the UDP tracker."""

import os
import unittest

import harness as H


class SeedMultiFile(unittest.TestCase):
    def test_btd_seeds_multifile_to_two_leechers(self):
        name = "tree"
        total = sum(size for _, size in H.LAYOUT_MULTI)
        with H.Swarm(H.LAYOUT_MULTI, name, tracker="udp", piece_length=32 * H.KIB) as sw, \
                H.BtdPeer(sw.torrent, sw.src_dir) as btd:
            btd.wait_seeding(60)
            H.wait_for_tracker_seeds(sw.tracker, sw.info_hash, 1)
            dirs = [os.path.join(sw.dir, f"leecher{i}") for i in range(2)]
            leechers = [H.lt_leecher(sw.torrent, d) for d in dirs]
            try:
                for leecher in leechers:
                    leecher.wait_for_line("DONE", H.LEECH_TIMEOUT)
            finally:
                for leecher in leechers:
                    leecher.stop()
            for d in dirs:
                H.compare_trees(sw.content, os.path.join(d, name))
                H.assert_only_entry(d, name)
            from_btd = [H.btd_peer_bytes(leecher)[0] for leecher in leechers]
            H.log(f"bytes each leecher got from btd: {from_btd} (payload {total})")
            for got in from_btd:
                self.assertGreater(got, 0, "a leecher got nothing from btd")
            # btd is the only seed: whatever the leechers traded, it sent at least one copy
            # (block-alert counts can miss a block now and then: 4 blocks of slack).
            self.assertGreaterEqual(sum(from_btd), total - 4 * 16 * H.KIB)
            self.assertTrue(btd.running(), "btd stopped seeding:\n" + btd.tail())
            self.assertEqual(btd.stop(), 0, "btd --seed should exit 0 on SIGTERM:\n" + btd.tail())


if __name__ == "__main__":
    unittest.main()
