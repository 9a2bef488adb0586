#!/usr/bin/python3
"""Data already on disk is hash-checked at start and reused: btd fetches only what is missing
or wrong.

The download dir starts with a copy of the payload whose second half is cut off and where a
few bytes in the first quarter are flipped. btd must end byte-identical, and the seeder must
have sent clearly less than the whole payload (the good first part was kept).
"""

import os
import shutil
import unittest

import harness as H


class ReusesData(unittest.TestCase):
    def test_partial_data_is_checked_and_reused(self):
        size = 16 * H.MIB
        with H.Swarm(H.layout_single(size, "partial.bin"), "partial.bin") as sw:
            os.makedirs(sw.dl_dir, exist_ok=True)
            target = os.path.join(sw.dl_dir, "partial.bin")
            shutil.copyfile(sw.content, target)
            with open(target, "r+b") as f:
                f.truncate(size // 2)
                f.seek(size // 8)
                f.write(b"\xff" * 64)  # one damaged piece in the kept half
            sw.add_seeder()
            sw.download()
            sw.check_download()
            uploaded = int(sw.stop_seeders()[0].get("up", 0))
            H.log(f"seeder sent {uploaded} of {size} bytes")
            # Half the payload plus the damaged piece (256 KiB), plus a little slack.
            self.assertGreaterEqual(uploaded, size // 2)
            self.assertLess(uploaded, size // 2 + 2 * 256 * H.KIB)


if __name__ == "__main__":
    unittest.main()
