#!/usr/bin/python3
"""One seeder serves corrupted data for a quarter of the pieces, another serves good data:
the download must still finish, byte-identical (bad pieces rejected and fetched again).

The good seeder is capped at 4 MiB/s so the fast corrupt one gets plenty of requests; the
corrupt seeder reports each block of a corrupted piece it sends, and the test fails if none
was sent (then it would not have tested anything).
"""

import unittest

import harness as H


class CorruptSeeder(unittest.TestCase):
    def test_corrupt_and_good_seeder(self):
        size = 16 * H.MIB
        pieces = size // (256 * H.KIB)
        with H.Swarm(H.layout_single(size, "corrupt.bin"), "corrupt.bin", tracker="http") as sw:
            bad = sw.add_seeder(corrupt_pieces=pieces // 4)
            sw.add_seeder(upload_limit=4 * H.MIB)
            res = sw.download()
            sw.check_download()
            sw.stop_seeders()
            sent = bad.lines_with("CORRUPT_SENT")
            H.log(f"corrupt blocks sent: {len(sent)}; {bad.lines_with('CORRUPTED')[0]}")
            self.assertGreater(len(sent), 0, "the corrupt seeder never sent a corrupted block")
            if H.leecher_kind() == "libtorrent":
                # Proves the corrupt seeder's bytes really are wrong on the wire.
                self.assertIn("HASH_FAILED", res.stderr)


if __name__ == "__main__":
    unittest.main()
