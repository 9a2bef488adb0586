#!/usr/bin/python3
"""Issue 8 item 9: a damaged state dir never stops btd from starting.

Before the fix: a deeply nested settings.json crashed btd at start (stack overflow while
logging it, then a crash loop under systemd); an empty rpc.secret (a crash between create and
write) stopped every later start; a FIFO named rpc.secret hung the start; corrupt job files were
left in place. Now every state file is read bounded and as a regular file only, and a bad one is
set aside as `<name>.corrupt-<time>` with a logged reason, keeping everything else.
"""

import glob
import os
import re
import signal
import time
import unittest

import hostile_common  # noqa: F401  (sets up the import path)
from hostile_common import harness as H
from test_daemon_lifecycle import BtdDaemon

MIB = 1024 * 1024
START_BOUND_S = 20


class StateFiles(unittest.TestCase):
    def setUp(self):
        self.tmp = H.TempDir("btd-statefiles-")
        self.root = self.tmp.__enter__()
        self.addCleanup(self.tmp.__exit__, None, None, None)
        self.state = os.path.join(self.root, "state")
        self.btd = BtdDaemon(self.state, os.path.join(self.root, "dl"))
        self.addCleanup(self.btd.stop)

    def start_bounded(self):
        start = time.monotonic()
        self.btd.start(timeout=START_BOUND_S)
        took = time.monotonic() - start
        H.log(f"btd started in {took:.1f}s")
        self.assertTrue(self.btd.rpc("daemon.version"))
        return took

    def stop(self):
        rc, _ = self.btd.signal_and_wait(signal.SIGTERM, timeout=20)
        self.assertEqual(rc, 0)

    def set_aside(self, name):
        return glob.glob(os.path.join(self.state, name + ".corrupt-*"))

    def first_run(self):
        """A normal run that leaves a secret and a settings.json behind."""
        self.start_bounded()
        self.btd.rpc("session.set", {"download_rate_limit": 123456})
        self.stop()
        self.assertTrue(os.path.exists(os.path.join(self.state, "settings.json")))

    def test_deeply_nested_settings_json(self):
        self.first_run()
        with open(os.path.join(self.state, "settings.json"), "w") as f:
            f.write('{"download_rate_limit": ' + "[" * 500000 + "]" * 500000 + "}")
        self.start_bounded()
        self.assertIn("settings.json is unusable", self.btd.log())
        self.stop()
        self.start_bounded()  # and again: no crash loop
        self.stop()
        self.assertEqual(len(self.set_aside("settings.json")), 1)

    def test_empty_secret(self):
        os.makedirs(self.state)
        open(os.path.join(self.state, "rpc.secret"), "w").close()  # created, never written
        self.start_bounded()
        self.assertRegex(self.btd.secret, r"^[0-9a-f]{64}$")
        self.assertEqual(len(self.set_aside("rpc.secret")), 1)
        r = H.run_btctl(["list"], state_dir=self.state, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_fifo_secret(self):
        os.makedirs(self.state)
        os.mkfifo(os.path.join(self.state, "rpc.secret"))
        took = self.start_bounded()
        self.assertLess(took, START_BOUND_S)
        self.assertRegex(self.btd.secret, r"^[0-9a-f]{64}$")
        self.assertEqual(len(self.set_aside("rpc.secret")), 1)

    def make_torrents(self):
        """Two small torrents with their data in place; returns [(torrent, id), ...]."""
        out = []
        for i, name in enumerate(("one.bin", "two.bin")):
            data = os.path.join(self.root, "data")
            H.make_payload(data, [(name, 3 * MIB + i)], seed=10 + i)
            out.append(H.make_torrent(os.path.join(data, name), [],
                                      out_path=os.path.join(self.root, name + ".torrent")))
        return out, os.path.join(self.root, "data")

    def add_and_seed(self):
        torrents, data = self.make_torrents()
        self.start_bounded()
        for path, info_hash in torrents:
            self.btd.add(path, download_dir=data)
        for _, info_hash in torrents:
            self.btd.wait_state(info_hash, "seeding", timeout=60)
        self.stop()
        return [h for _, h in torrents]

    def test_corrupt_resume_file_costs_only_that_job(self):
        one, two = self.add_and_seed()
        with open(os.path.join(self.state, "resume", one + ".json"), "w") as f:
            f.write('{"version": 1, "have": ' + "[" * 100000)
        self.start_bounded()
        ids = sorted(t["id"] for t in self.btd.rpc("torrent.list"))
        self.assertEqual(ids, sorted([one, two]))  # the job list is intact
        self.assertEqual(len(glob.glob(os.path.join(self.state, "resume",
                                                    one + ".json.corrupt-*"))), 1)
        log = self.btd.log()
        self.assertRegex(log, r"restored two\.bin: resume data for (\d+) of \1 pieces")
        self.assertIn("restored one.bin: no resume data", log)
        # Its download dir was in the lost resume data: it is checked where new jobs go.
        self.assertNotEqual(self.btd.status(one)["state"], "error")
        self.btd.wait_state(two, "seeding", timeout=30)

    def test_garbage_job_list_entry(self):
        one, two = self.add_and_seed()
        with open(os.path.join(self.state, "torrents", one + ".torrent"), "wb") as f:
            f.write(os.urandom(5000))
        self.start_bounded()
        ids = [t["id"] for t in self.btd.rpc("torrent.list")]
        self.assertEqual(ids, [two])
        self.assertEqual(len(glob.glob(os.path.join(self.state, "torrents",
                                                    one + ".torrent.corrupt-*"))), 1)
        self.assertTrue(re.search(r"\.torrent is unusable \(.*not a valid \.torrent",
                                  self.btd.log()))
        # The next start is clean: nothing more set aside, the other job still there.
        self.stop()
        self.start_bounded()
        self.assertEqual([t["id"] for t in self.btd.rpc("torrent.list")], [two])


if __name__ == "__main__":
    unittest.main()
