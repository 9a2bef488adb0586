#!/usr/bin/python3
"""Issue 8 item 6a: a protocol violator is banned for a growing time, not redialled every 10 s.

A raw peer, listed by the tracker as a seed, answers every connection with a clean handshake and
then sends a malformed message (a `have` with a 2-byte payload). Before the fix, the clean
handshake reset btd's failure count, so btd redialled it every ~10 s forever. Now each violation
bans the peer for longer (30 s, 60 s, ...), and a clean handshake does not reset that: over
100 s btd dials it at most 3 times, the first pause at least ~30 s and each pause longer than
the one before.
"""

import time
import unittest

import hostile_common  # noqa: F401  (sets up the import path)
from hostile_common import harness as H
import peer_fakes as F

WATCH_S = 100
MIN_FIRST_GAP_S = 25  # the first ban is 30 s; before the fix the gap was ~10 s


class ViolatorBackoff(unittest.TestCase):
    def test_violator_is_banned_with_growing_backoff(self):
        size = 2 * H.MIB
        with H.Swarm(H.layout_single(size, "v.bin"), "v.bin") as sw:
            violator = F.ViolatorPeer(sw.info_hash).start()
            self.addCleanup(violator.close)
            F.announce(sw.tracker.port, sw.info_hash, violator.port, violator.peer_id)
            H.wait_for_tracker_seeds(sw.tracker, sw.info_hash, 1)
            btd = H.BtdPeer(sw.torrent, sw.dl_dir, seed=False, log_level="debug").start()
            self.addCleanup(btd.stop)

            deadline = time.monotonic() + 30
            while not violator.times() and time.monotonic() < deadline:
                self.assertTrue(btd.running(), "btd exited:\n" + btd.tail())
                time.sleep(0.1)
            self.assertTrue(violator.times(), "btd never dialled the violator\n" + btd.tail())
            first = violator.times()[0]
            while time.monotonic() < first + WATCH_S:
                self.assertTrue(btd.running(), "btd exited:\n" + btd.tail())
                self.assertLessEqual(len(violator.times()), 3,
                                     f"btd redials a violator too often: {self.gaps(violator)}")
                time.sleep(0.5)
            gaps = self.gaps(violator)
            H.log(f"dials of the violator in {WATCH_S}s: {len(violator.times())}, "
                  f"pauses {['%.1f' % g for g in gaps]} s, clean handshakes "
                  f"{violator.handshakes}")
            self.assertGreaterEqual(violator.handshakes, 1, "no clean handshake happened")
            self.assertIn("broke the protocol", btd.output())
            self.assertGreaterEqual(len(gaps), 1, "btd never came back (expected a timed ban)")
            self.assertGreaterEqual(gaps[0], MIN_FIRST_GAP_S, f"pauses: {gaps}")
            for a, b in zip(gaps, gaps[1:]):
                self.assertGreater(b, a * 1.5, f"the ban does not grow: pauses {gaps}")

    @staticmethod
    def gaps(server):
        t = server.times()
        return [b - a for a, b in zip(t, t[1:])]


if __name__ == "__main__":
    unittest.main()
