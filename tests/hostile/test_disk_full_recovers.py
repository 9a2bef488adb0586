#!/usr/bin/python3
"""Issue 8 item 4 (transient errors): a full disk pauses a download, it does not end it.

The download dir is a small tmpfs the test mounts and fills to the last byte. btd (one-shot
`--download` from a libtorrent seeder) cannot write a piece: ENOSPC. Before the fix that was a
permanent `error` (one-shot mode exits non-zero). Now btd logs the error, waits (5 s, doubling)
and starts again; once the test deletes the filler, the download completes, byte-exact.
Permanent errors (permissions, read-only) stay errors: see core/storage/os_error.hpp and its
unit test.
"""

import os
import subprocess
import time
import unittest

import hostile_common  # noqa: F401  (sets up the import path)
from hostile_common import harness as H

TMPFS_SIZE = 8 * H.MIB


def fill(path):
    """Writes `path` until the file system is full; returns the bytes written."""
    written = 0
    chunk = b"\xaa" * (64 * H.KIB)
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                written += f.write(chunk)
            except OSError:
                return written


class DiskFullRecovers(unittest.TestCase):
    def test_download_waits_out_a_full_disk(self):
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root")
        size = 6 * H.MIB + 4321
        with H.Swarm(H.layout_single(size, "full.bin"), "full.bin") as sw:
            sw.add_seeder()
            mnt = os.path.join(sw.dir, "small")
            os.makedirs(mnt)
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", mnt],
                           check=True)
            self.addCleanup(subprocess.run, ["umount", "-l", mnt])
            filler = os.path.join(mnt, "filler")
            H.log(f"tmpfs filled with {fill(filler)} bytes")
            dl = os.path.join(mnt, "dl")
            os.makedirs(dl)

            btd = H.BtdPeer(sw.torrent, dl, seed=False, log_level="debug").start()
            self.addCleanup(btd.stop)
            line = btd.wait_for_text("trying again in", 60)
            H.log(f"btd: {line}")
            self.assertIn("No space left on device", line)
            time.sleep(2)
            self.assertTrue(btd.running(), "btd gave up on a full disk:\n" + btd.tail())

            os.unlink(filler)
            try:
                rc = btd.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                rc = None
            self.assertEqual(rc, 0, "no completion after space came back\n" + btd.tail())
            self.assertGreaterEqual(btd.output().count("trying again in"), 1)
            H.compare_trees(sw.content, os.path.join(dl, sw.name))


if __name__ == "__main__":
    unittest.main()
