#!/usr/bin/python3
"""Issue 8 item 6b: btd recognises itself by its peer id and never dials that endpoint again.

A tracker hands out btd's own external address. Here a port forward on 127.0.0.1 (another port
than btd's, like a NAT mapping) leads to btd's peer port, and is announced to the tracker as a
seed. btd dials it and reaches itself. Before the fix, btd refused its own incoming handshake
without an answer, the dialling side saw an ordinary failure and dialled again after 10 s, 20 s,
40 s, ... forever. Now the incoming side answers with btd's handshake, the dialling side sees its
own peer id and bans the endpoint: one dial in 50 s.
"""

import time
import unittest

import hostile_common  # noqa: F401  (sets up the import path)
from hostile_common import harness as H
import peer_fakes as F

WATCH_S = 50


class SelfDial(unittest.TestCase):
    def test_own_address_from_tracker_is_dialled_once(self):
        size = 2 * H.MIB
        with H.Swarm(H.layout_single(size, "s.bin"), "s.bin") as sw:
            btd_port = H.free_port()
            forward = F.Forwarder(btd_port).start()
            self.addCleanup(forward.close)
            F.announce(sw.tracker.port, sw.info_hash, forward.port)
            H.wait_for_tracker_seeds(sw.tracker, sw.info_hash, 1)
            btd = H.BtdPeer(sw.torrent, sw.dl_dir, port=btd_port, seed=False,
                            log_level="debug").start()
            self.addCleanup(btd.stop)

            deadline = time.monotonic() + 30
            while not forward.times() and time.monotonic() < deadline:
                self.assertTrue(btd.running(), "btd exited:\n" + btd.tail())
                time.sleep(0.1)
            self.assertTrue(forward.times(), "btd never dialled its own external address\n"
                            + btd.tail())
            first = forward.times()[0]
            while time.monotonic() < first + WATCH_S:
                self.assertTrue(btd.running(), "btd exited:\n" + btd.tail())
                time.sleep(0.5)
            dials = forward.times()
            H.log(f"btd dialled itself {len(dials)} time(s) in {WATCH_S}s")
            self.assertEqual(len(dials), 1, f"btd dialled itself again: at "
                             f"{[round(t - first, 1) for t in dials]} s\n" + btd.tail())
            self.assertIn(f"127.0.0.1:{forward.port} is ourselves", btd.output())


if __name__ == "__main__":
    unittest.main()
