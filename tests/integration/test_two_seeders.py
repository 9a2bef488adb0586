#!/usr/bin/python3
"""btd downloads 32 MiB from two libtorrent seeders at once and gets data from both.

Each seeder is capped at 8 MiB/s, so one alone would need 4 s: a leecher that uses both peers
gets bytes from each. The seeders' own upload counters show that, whatever btd logs.
"""

import unittest

import harness as H


class TwoSeeders(unittest.TestCase):
    def test_two_seeders(self):
        size = 32 * H.MIB
        with H.Swarm(H.layout_single(size, "two.bin"), "two.bin", tracker="http") as sw:
            sw.add_seeder(upload_limit=8 * H.MIB)
            sw.add_seeder(upload_limit=8 * H.MIB)
            sw.download()
            sw.check_download()
            stats = sw.stop_seeders()
            uploaded = [int(s.get("up", 0)) for s in stats]
            H.log(f"uploaded by each seeder: {uploaded}")
            for i, up in enumerate(uploaded):
                self.assertGreater(up, 0, f"seeder {i} sent nothing: the leecher used one peer")
            self.assertGreaterEqual(sum(uploaded), size)


if __name__ == "__main__":
    unittest.main()
