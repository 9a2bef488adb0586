#!/usr/bin/python3
"""btd downloads a multi-file torrent (nested folders, zero-length files, pieces spanning file
boundaries) from one libtorrent seeder found via a UDP tracker."""

import unittest

import harness as H


class DownloadMultiFile(unittest.TestCase):
    def test_multi_file_udp_tracker(self):
        # 32 KiB pieces: most pieces cross at least one file boundary.
        with H.Swarm(H.LAYOUT_MULTI, "multi", tracker="udp", piece_length=32 * H.KIB) as sw:
            sw.add_seeder()
            sw.download()
            sw.check_download()


if __name__ == "__main__":
    unittest.main()
