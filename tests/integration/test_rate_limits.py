#!/usr/bin/python3
"""btd's rate limits, measured from the libtorrent peer on the other side.

(a) btd seeds with --upload-limit 1 MiB/s to one libtorrent leecher: the leecher's download
    counter must grow at 1 MiB/s +-15% over a 20 s window.
(b) btd downloads with --download-limit 1 MiB/s from an unlimited libtorrent seeder: the
    seeder's upload counter must grow at 1 MiB/s +-15% over a 20 s window.
The counters come from lt_peer's STATUS lines (every 0.25 s), timed as they are read. The first
WARMUP seconds (connection set-up, limiter bursts, socket buffers filling) are not measured.
The payload outlasts the window; each download then finishes and is compared byte for byte.
"""

import os
import time
import unittest

import harness as H

LIMIT = 1 * H.MIB
TOLERANCE = 0.15
WARMUP = 3.0
WINDOW = 20.0
SIZE = 26 * H.MIB + 777  # ~26 s at the limit: not done within WARMUP + WINDOW
STATUS = ["--status-interval", "0.25"]
FINISH_TIMEOUT = 120


class RateLimits(unittest.TestCase):
    def check_rate(self, peer, field, start, what):
        rate, span, nbytes = peer.counter_rate(field, start + WARMUP, start + WARMUP + WINDOW)
        H.log(f"{what}: {nbytes} bytes in {span:.2f}s = {rate / H.MIB:.3f} MiB/s "
              f"(limit {LIMIT / H.MIB:.3f} MiB/s)")
        self.assertGreater(span, WINDOW - 1, "STATUS lines did not cover the window")
        self.assertLess(abs(rate - LIMIT), TOLERANCE * LIMIT,
                        f"{what}: {rate / H.MIB:.3f} MiB/s is not within 15% of the limit")

    def test_upload_limit(self):
        name = "up.bin"
        with H.Swarm(H.layout_single(SIZE, name), name) as sw, \
                H.BtdPeer(sw.torrent, sw.src_dir, upload_limit=LIMIT) as btd:
            btd.wait_seeding(60)
            H.wait_for_tracker_seeds(sw.tracker, sw.info_hash, 1)
            start = time.monotonic()
            leecher = H.lt_leecher(sw.torrent, sw.dl_dir, timeout=FINISH_TIMEOUT,
                                   extra_args=STATUS)
            try:
                time.sleep(WARMUP + WINDOW + 0.5)
                self.assertEqual(leecher.lines_with("DONE"), [],
                                 "the download finished within the window: limit not applied")
                self.check_rate(leecher, "down", start, "leecher download from btd")
                leecher.wait_for_line("DONE", FINISH_TIMEOUT)
            finally:
                leecher.stop()
            sw.check_download()
            self.assertTrue(btd.running(), "btd stopped seeding:\n" + btd.tail())

    def test_download_limit(self):
        name = "down.bin"
        with H.Swarm(H.layout_single(SIZE, name), name) as sw:
            seeder = sw.add_seeder(extra_args=STATUS)
            start = time.monotonic()
            with H.BtdPeer(sw.torrent, sw.dl_dir, seed=False, download_limit=LIMIT) as btd:
                time.sleep(WARMUP + WINDOW + 0.5)
                self.assertTrue(btd.running(),
                                "btd exited within the window: limit not applied\n" + btd.tail())
                self.check_rate(seeder, "up", start, "seeder upload to btd")
                deadline = time.monotonic() + FINISH_TIMEOUT
                while btd.running() and time.monotonic() < deadline:
                    time.sleep(0.2)
                self.assertEqual(btd.stop(), 0, "btd did not finish the download:\n" + btd.tail())
            sw.check_download()
            self.assertEqual(os.listdir(sw.dl_dir), [name])


if __name__ == "__main__":
    unittest.main()
