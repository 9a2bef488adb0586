#!/usr/bin/env python3
"""A slow disk stalls no one: btd runs with a preloaded shim (tests/support/slow_io.cpp) that
makes every read and write of files under one folder sleep first. While a hash check of data in
that folder crawls, the disk-queue metrics show the jobs waiting and running, every RPC call still
answers at once (the network thread never waits for the disk), and a .torrent read from the slow
folder is added without holding up other calls. Afterwards the gauges fall back to 0."""

import os
import statistics
import threading
import time
import unittest

import harness as H
import web_common as W
from test_daemon_lifecycle import BtdDaemon

SIZE = 8 * H.MIB
PIECE = 256 * H.KIB
DELAY_MS = 40


def disk_gauges(address, secret):
    """{'check': n, 'read': n, ..., 'running': n} from /metrics."""
    from prometheus_client.parser import text_string_to_metric_families
    status, _, body = W.request(address, "GET", "/metrics", W.bearer(secret))
    assert status == 200, body
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        if family.name == "btd_disk_jobs_waiting":
            out.update({s.labels["kind"]: s.value for s in family.samples})
        elif family.name == "btd_disk_jobs_running":
            out["running"] = family.samples[0].value
    return out


def timed_list(daemon):
    start = time.monotonic()
    daemon.rpc("torrent.list")
    return time.monotonic() - start


class SlowDisk(unittest.TestCase):
    def setUp(self):
        self.shim = os.environ.get("BTD_SLOW_IO_LIB", "")
        if not os.path.exists(self.shim):
            self.skipTest("BTD_SLOW_IO_LIB is not set to the built slow_io shim (run via ctest)")
        self._tmp = H.TempDir(prefix="btd-slowdisk-")
        self.dir = self._tmp.__enter__()
        self.addCleanup(self._tmp.__exit__, None, None, None)
        self.marker = f"slow-disk-{os.getpid()}"
        self.slow = os.path.join(self.dir, self.marker)
        H.make_payload(self.slow, H.layout_single(SIZE, "slow.bin"), seed=9)
        # The data is complete already: adding it starts a hash check that reads every piece.
        self.torrent, self.info_hash = H.make_torrent(
            os.path.join(self.slow, "slow.bin"), [], PIECE,
            os.path.join(self.slow, "slow.torrent"))
        env = dict(os.environ, LD_PRELOAD=self.shim, BTD_SLOW_IO_MARKER=self.marker,
                   BTD_SLOW_IO_MS=str(DELAY_MS))
        # An ASan build of btd wants its runtime first; the shim is loaded before it.
        env["ASAN_OPTIONS"] = ":".join(
            filter(None, [env.get("ASAN_OPTIONS", ""), "verify_asan_link_order=0"]))
        self.daemon = BtdDaemon(os.path.join(self.dir, "state"), self.slow, env=env).start()
        self.addCleanup(self.daemon.stop)

    def test_slow_check_and_add_stall_nothing(self):
        # The add reads the .torrent from the slow folder (on the disk pool) and answers when the
        # disk does; a list call made meanwhile from another thread answers at once.
        add_seconds, list_seconds = [], []

        def add():
            start = time.monotonic()
            self.daemon.rpc("torrent.add", {"path": self.torrent})
            add_seconds.append(time.monotonic() - start)

        adder = threading.Thread(target=add)
        adder.start()
        time.sleep(0.005)
        list_seconds.append(timed_list(self.daemon))
        adder.join(30)
        self.assertEqual(len(add_seconds), 1, "torrent.add did not answer")
        H.log(f"add from the slow folder: {add_seconds[0] * 1000:.0f} ms; "
              f"list meanwhile: {list_seconds[0] * 1000:.1f} ms")

        # The check: sample the gauges and the list latency until it ends.
        start = time.monotonic()
        peak_waiting, peak_running, latencies = 0, 0, []
        state = None
        while time.monotonic() - start < 120:
            gauges = disk_gauges(self.daemon.address, self.daemon.secret)
            peak_waiting = max(peak_waiting, gauges["check"])
            peak_running = max(peak_running, gauges["running"])
            latencies.append(timed_list(self.daemon))
            state = self.daemon.status(self.info_hash)["state"]
            if state == "seeding":
                break
            time.sleep(0.05)
        check_seconds = time.monotonic() - start
        H.log(f"check took {check_seconds:.2f} s; peak check jobs waiting {peak_waiting:.0f}, "
              f"running {peak_running:.0f}; torrent.list median "
              f"{statistics.median(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms "
              f"over {len(latencies)} calls")
        self.assertEqual(state, "seeding", self.daemon.log()[-3000:])
        status = self.daemon.status(self.info_hash)
        self.assertEqual(status["have_bytes"], SIZE)
        # The shim did slow the disk (32 pieces, 40 ms a read, 2 pool threads at most) ...
        self.assertGreaterEqual(check_seconds, (SIZE // PIECE) * DELAY_MS / 1000 / 4)
        # ... the gauges saw it ...
        self.assertGreaterEqual(peak_running, 1)
        self.assertGreaterEqual(peak_waiting, 1, "no check job was ever seen waiting")
        # ... and the RPC did not wait for it: each call takes far less than one slow read.
        self.assertLess(statistics.median(latencies), DELAY_MS / 1000 / 2)
        self.assertLess(statistics.median(list_seconds), DELAY_MS / 1000)

        # Idle again: nothing waits, nothing runs.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            gauges = disk_gauges(self.daemon.address, self.daemon.secret)
            if all(v == 0 for v in gauges.values()):
                break
            time.sleep(0.1)
        self.assertTrue(all(v == 0 for v in gauges.values()), gauges)


if __name__ == "__main__":
    unittest.main()
