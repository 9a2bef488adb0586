#!/usr/bin/python3
"""btd downloads one 8 MiB file from one libtorrent seeder found via an HTTP tracker."""

import unittest

import harness as H


class DownloadSingleFile(unittest.TestCase):
    def test_single_file_http_tracker(self):
        size = 8 * H.MIB + 1234  # last piece is short
        with H.Swarm(H.layout_single(size, "single.bin"), "single.bin", tracker="http") as sw:
            sw.add_seeder()
            sw.download()
            sw.check_download()
            (seeder,) = sw.stop_seeders()
            self.assertGreaterEqual(int(seeder.get("up", 0)), size,
                                    "the seeder should have uploaded the whole file")


if __name__ == "__main__":
    unittest.main()
