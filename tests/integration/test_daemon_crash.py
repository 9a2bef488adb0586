#!/usr/bin/python3
"""kill -9 in the middle of a download: after a restart btd trusts the resume data it saved
(at most ~30 s old), re-checks the files that changed since, and completes the download with
every byte right."""

import json
import os
import time
import unittest

import harness as H
from test_daemon_lifecycle import DaemonTestCase


class DaemonCrash(DaemonTestCase):
    def test_kill9_mid_download_then_restart(self):
        size = 48 * H.MIB + 4321
        # A slow seeder (1 MiB/s) so that the kill lands mid-download, after a periodic save.
        sw = self.make_swarm(size, "crash.bin", upload_limit=1 * H.MIB)
        d = self.make_daemon(sw).start()
        tid = d.add(sw.torrent)["id"]
        resume_file = os.path.join(self.state_dir, "resume", tid + ".json")

        # Wait for resume data that records some pieces (the periodic save, every ~30 s).
        deadline = time.monotonic() + 90
        saved = 0
        while time.monotonic() < deadline:
            try:
                with open(resume_file) as f:
                    saved = json.load(f)["have"].count("1")
            except (OSError, ValueError):
                saved = 0
            if saved:
                break
            time.sleep(0.5)
        progress = d.status(tid)["progress"]
        H.log(f"resume data records {saved} pieces; progress {progress:.2f}")
        self.assertGreater(saved, 0, "no resume data with pieces was saved while downloading\n"
                           + d.log()[-3000:])
        self.assertLess(progress, 1.0, "the download finished before the kill: slow it down")
        d.kill9()

        # Restart: the job is restored; more pieces than the resume data claims may be found by
        # the re-check of the changed file. Speed the seeder up no further: just wait.
        d.start()
        log = d.log()
        self.assertIn("restored crash.bin: resume data for", log)
        d.wait_state(tid, "seeding", 120)
        sw.check_download()
        self.assertEqual(d.signal_and_wait()[0], 0)


if __name__ == "__main__":
    unittest.main()
