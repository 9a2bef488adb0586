#!/usr/bin/python3
"""torrent.reannounce / `btctl reannounce` (issue 12 item 2) against opentracker: the tracker is
down at btd's first announce (next retry: 60 s later); once it is up and knows a peer,
`btctl reannounce` makes btd ask it at once and dial that peer. A second reannounce right after
the tracker answered is held back to the tracker's `min interval` (opentracker: ~15 min), so a
script cannot hammer a tracker."""

import os
import subprocess
import time
import unittest

import harness as H
from test_bind_interface import FakePeer, announce
from test_daemon_lifecycle import BtdDaemon


class Reannounce(unittest.TestCase):
    def test_reannounce_asks_now_but_respects_the_min_interval(self):
        tmp = H.TempDir("btd-reannounce-")
        root = tmp.__enter__()
        self.addCleanup(tmp.__exit__, None, None, None)
        content = os.path.join(root, "src", "r.bin")
        H.make_payload(os.path.dirname(content), [("r.bin", 256 * H.KIB)])
        port = H.free_tcp_udp_port()  # the tracker's, before it runs
        torrent, info_hash = H.make_torrent(content, [f"http://127.0.0.1:{port}/announce"],
                                            64 * H.KIB, os.path.join(root, "t.torrent"))
        btd = BtdDaemon(os.path.join(root, "state"), os.path.join(root, "dl")).start()
        self.addCleanup(btd.stop)
        btd.add(torrent)

        def tracker_state():
            return btd.rpc("torrent.get", {"id": info_hash})["trackers"][0]

        deadline = time.monotonic() + 30
        while tracker_state()["state"] != "error":
            self.assertLess(time.monotonic(), deadline, f"first announce: {tracker_state()}")
            time.sleep(0.2)
        failed_at = time.monotonic()

        original = H.free_tcp_udp_port
        H.free_tcp_udp_port = lambda: port
        try:
            tracker = H.Tracker([info_hash]).__enter__()
        finally:
            H.free_tcp_udp_port = original
        self.addCleanup(tracker.__exit__, None, None, None)
        fake = FakePeer()
        self.addCleanup(fake.close)
        announce(tracker, info_hash, fake.port)

        res = subprocess.run([H.btctl_binary(), "--state-dir", btd.state_dir, "reannounce",
                              info_hash[:10]], capture_output=True, text=True, timeout=30)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("reannouncing 1 torrent", res.stdout)
        asked = time.monotonic() - failed_at
        # btd's own retry comes 60 s after the failure: a dial before it is the reannounce's.
        while not fake.sources and time.monotonic() < failed_at + 57:
            time.sleep(0.1)
        took = time.monotonic() - failed_at
        H.log(f"reannounce asked {asked:.1f} s and peer dialled {took:.1f} s after the failed "
              f"announce: {fake.sources}")
        self.assertTrue(fake.sources, f"no dial before the retry: {tracker_state()}, peers "
                        f"{btd.rpc('torrent.get', {'id': info_hash})['peers']}")
        self.assertEqual(tracker_state()["state"], "working")
        self.assertGreater(tracker_state()["next_announce_in"], 1200)  # the tracker's interval

        btd.rpc("torrent.reannounce", {"ids": [info_hash]})
        time.sleep(1)
        held = tracker_state()
        H.log(f"after a second reannounce: {held}")
        self.assertEqual(held["state"], "working")
        self.assertGreater(held["next_announce_in"], 600, "reannounced inside the min interval")
        self.assertLess(held["next_announce_in"], 1000, "the reannounce was not scheduled")


if __name__ == "__main__":
    unittest.main()
