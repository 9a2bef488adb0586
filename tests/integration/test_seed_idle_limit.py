#!/usr/bin/python3
"""Session-wide seeding limits set over RPC (session.set) stop seeding at the right time.

Idle limit: btd (the daemon) seeds a small torrent it already has (hash-checked). With
`seed_idle_limit` = 3 and no leecher it pauses itself within a few seconds; `torrent.resume`
restarts the idle clock, so it seeds at least ~3 s more before pausing again. While it uploads
to a rate-limited libtorrent leecher it keeps seeding well past the limit; the leecher's copy is
compared byte for byte; once the leecher is done btd goes idle and pauses again.

Ratio limit: `session.set` ratio_limit = 1.0 (no per-torrent limit); btd seeds until a leecher
has taken the whole size, then pauses itself. The limits are kept in settings.json, restored on
restart, and a reload keeps them unless the config file changes that key.
"""

import json
import os
import shutil
import signal
import tempfile
import time
import unittest

import harness as H
from test_daemon_lifecycle import BtdDaemon

IDLE_LINE = "stopped seeding: seeding idle limit reached"
RATIO_LINE = "stopped seeding: ratio limit reached"


def count_lines(daemon, text):
    return daemon.log().count(text)


def wait_for(predicate, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not within {timeout}s: {what}")


class Work:
    """A temp dir with a state dir for one daemon; removed on exit, the daemon killed."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="btd-seedlim-")
        self.state = os.path.join(self.dir, "state")
        os.makedirs(self.state)
        self.daemon = None
        return self

    def __exit__(self, *exc):
        if self.daemon and self.daemon.proc and self.daemon.proc.poll() is None:
            H.kill_process(self.daemon.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


class SeedIdleLimit(unittest.TestCase):
    def test_idle_limit_pauses_resume_restarts_clock_upload_keeps_seeding(self):
        size = 4 * H.MIB + 777
        name = "idle.bin"
        with H.Swarm(H.layout_single(size, name), name) as sw, Work() as w:
            daemon = w.daemon = BtdDaemon(w.state, sw.src_dir).start()
            tid = daemon.add(sw.torrent)["id"]
            daemon.wait_state(tid, "seeding", 30)
            seen_seeding = time.monotonic()
            self.assertEqual(daemon.rpc("session.get")["seed_idle_limit"], 0)

            # 1. No leecher: paused within ~3-6 s of the start of seeding, and not before.
            got = daemon.rpc("session.set", {"seed_idle_limit": 3})
            self.assertEqual(got["seed_idle_limit"], 3)
            self.assertEqual(daemon.rpc("session.get")["seed_idle_limit"], 3)
            daemon.wait_state(tid, "paused", 8)
            idle_for = time.monotonic() - seen_seeding
            H.log(f"paused {idle_for:.1f}s after seeding was seen")
            self.assertGreater(idle_for, 2.5)
            self.assertEqual(count_lines(daemon, IDLE_LINE), 1, daemon.log()[-3000:])

            # 2. torrent.resume restarts the idle clock: seeding for ~3 s, then paused again.
            daemon.rpc("torrent.resume", {"ids": [tid]})
            resumed = time.monotonic()
            while time.monotonic() - resumed < 2.3:
                state = daemon.status(tid)["state"]
                self.assertEqual(state, "seeding", f"{time.monotonic() - resumed:.1f}s after "
                                 f"torrent.resume:\n{daemon.log()[-3000:]}")
                time.sleep(0.1)
            daemon.wait_state(tid, "paused", 6)
            H.log(f"paused again {time.monotonic() - resumed:.1f}s after torrent.resume")
            self.assertEqual(count_lines(daemon, IDLE_LINE), 2)

            # 3. Uploading to a slow leecher: seeding goes on well past the limit.
            daemon.rpc("session.set", {"seed_idle_limit": 0})
            daemon.rpc("torrent.resume", {"ids": [tid]})
            daemon.wait_state(tid, "seeding", 10)
            leecher = H.lt_leecher(sw.torrent, sw.dl_dir, download_limit=320 * H.KIB, timeout=50)
            try:
                wait_for(lambda: daemon.status(tid)["uploaded"] > 0, 20,
                         "btd uploads to the leecher")
                daemon.rpc("session.set", {"seed_idle_limit": 3})
                start = time.monotonic()
                first = daemon.status(tid)["uploaded"]
                last = first
                while time.monotonic() - start < 5.0:
                    st = daemon.status(tid)
                    self.assertEqual(st["state"], "seeding",
                                     f"paused while uploading:\n{daemon.log()[-3000:]}")
                    last = st["uploaded"]
                    time.sleep(0.25)
                H.log(f"uploaded {last - first} bytes in the 5 s over the idle limit")
                self.assertLess(last, size, "the upload ended too early to test anything")
                self.assertGreater(last - first, 5 * 100 * H.KIB)
                self.assertEqual(count_lines(daemon, IDLE_LINE), 2)
                leecher.wait_for_line("DONE", 40)
                self.assertEqual(leecher.proc.wait(10), 0)
            finally:
                leecher.stop()
            sw.check_download()
            H.assert_all_from_btd(leecher, size)
            # The leecher is done: nothing to upload, so the idle limit pauses btd again.
            final = daemon.wait_state(tid, "paused", 10)
            self.assertGreaterEqual(final["uploaded"], size)
            self.assertEqual(count_lines(daemon, IDLE_LINE), 3)
            self.assertEqual(count_lines(daemon, RATIO_LINE), 0)
            rc, _ = daemon.signal_and_wait()
            self.assertEqual(rc, 0)

    def test_per_torrent_idle_limit_set_by_sonarr_body(self):
        """A torrent's own idle limit wins over the session's: 0 (none) keeps it seeding past
        the session's limit; Sonarr's torrent-set body (seedIdleLimit in minutes, mode 1) is
        accepted and read back; a short own limit set with torrent.set pauses it."""
        from test_transmission_remote import TransmissionClient
        size = H.MIB + 5
        name = "own-idle.bin"
        with H.Swarm(H.layout_single(size, name), name) as sw, Work() as w:
            daemon = w.daemon = BtdDaemon(w.state, sw.src_dir).start()
            tid = daemon.add(sw.torrent)["id"]
            daemon.wait_state(tid, "seeding", 30)
            daemon.rpc("torrent.set", {"ids": [tid], "seed_idle_limit": 0})
            daemon.rpc("session.set", {"seed_idle_limit": 2})

            def stays_seeding(seconds):
                start = time.monotonic()
                while time.monotonic() - start < seconds:
                    self.assertEqual(daemon.status(tid)["state"], "seeding",
                                     daemon.log()[-3000:])
                    time.sleep(0.2)

            stays_seeding(4.5)  # its own "no idle limit" wins over the session's 2 s
            client = TransmissionClient(daemon.address, daemon.secret)
            # Sonarr's TransmissionProxy.SetTorrentSeedingConfiguration, as it sends it.
            reply = client.call("torrent-set", {"ids": [tid], "seedRatioLimit": 4.0,
                                                "seedRatioMode": 1, "seedIdleLimit": 1,
                                                "seedIdleMode": 1})
            self.assertEqual(reply["result"], "success", reply)
            limits = daemon.rpc("torrent.get", {"id": tid})["limits"]
            self.assertEqual((limits["seed_idle_limit"], limits["ratio_limit"]), (60, 4.0))
            got = client.call("torrent-get", {"ids": [tid], "fields": [
                "seedIdleLimit", "seedIdleMode", "seedRatioLimit", "seedRatioMode"]})
            t = got["arguments"]["torrents"][0]
            self.assertEqual((t["seedIdleLimit"], t["seedIdleMode"]), (1, 1))
            self.assertEqual((t["seedRatioLimit"], t["seedRatioMode"]), (4.0, 1))
            stays_seeding(3)  # idle for 7 s by now, under its own 60 s
            self.assertEqual(count_lines(daemon, IDLE_LINE), 0)

            set_at = time.monotonic()
            daemon.rpc("torrent.set", {"ids": [tid], "seed_idle_limit": 3})
            daemon.wait_state(tid, "paused", 10)
            H.log(f"paused {time.monotonic() - set_at:.1f}s after its own 3 s idle limit was set")
            self.assertEqual(count_lines(daemon, IDLE_LINE), 1, daemon.log()[-3000:])
            # Kept across a restart, with the torrent.
            rc, _ = daemon.signal_and_wait()
            self.assertEqual(rc, 0)
            daemon.start()
            self.assertEqual(daemon.rpc("torrent.get", {"id": tid})["limits"]["seed_idle_limit"],
                             3)
            rc, _ = daemon.signal_and_wait()
            self.assertEqual(rc, 0)

    def test_session_ratio_limit_persisted_and_reloaded(self):
        size = 2 * H.MIB + 99
        name = "ratio.bin"
        with H.Swarm(H.layout_single(size, name), name) as sw, Work() as w:
            config = os.path.join(w.dir, "btd.conf")
            with open(config, "w") as f:
                f.write("ratio_limit = 5\nseed_idle_limit = 0\n")
            daemon = w.daemon = BtdDaemon(w.state, sw.src_dir, config=config).start()
            self.assertEqual(daemon.rpc("session.get")["ratio_limit"], 5)  # from the file
            tid = daemon.add(sw.torrent)["id"]
            daemon.wait_state(tid, "seeding", 30)
            got = daemon.rpc("session.set", {"ratio_limit": 1.0, "seed_idle_limit": 600})
            self.assertEqual((got["ratio_limit"], got["seed_idle_limit"]), (1.0, 600))
            time.sleep(1.5)  # ratio 0 < 1: a few ticks without pausing
            self.assertEqual(daemon.status(tid)["state"], "seeding")

            leecher = H.lt_leecher(sw.torrent, sw.dl_dir, timeout=40)
            try:
                leecher.wait_for_line("DONE", 40)
                self.assertEqual(leecher.proc.wait(10), 0)
            finally:
                leecher.stop()
            sw.check_download()
            H.assert_all_from_btd(leecher, size)
            final = daemon.wait_state(tid, "paused", 10)
            self.assertGreaterEqual(final["ratio"], 1.0)
            self.assertEqual(count_lines(daemon, RATIO_LINE), 1, daemon.log()[-3000:])

            # Kept in settings.json and restored by the next start.
            settings_file = os.path.join(w.state, "settings.json")
            wait_for(lambda: os.path.exists(settings_file), 5, "settings.json written")
            with open(settings_file) as f:
                stored = json.load(f)
            self.assertEqual((stored.get("ratio_limit"), stored.get("seed_idle_limit")),
                             (1.0, 600))
            rc, _ = daemon.signal_and_wait()
            self.assertEqual(rc, 0)
            daemon.start()
            got = daemon.rpc("session.get")
            self.assertEqual((got["ratio_limit"], got["seed_idle_limit"]), (1.0, 600))

            # SIGHUP: an unchanged file keeps the runtime values; a changed key replaces one.
            daemon.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: count_lines(daemon, "configuration reloaded") == 1, 10, "reload 1")
            got = daemon.rpc("session.get")
            self.assertEqual((got["ratio_limit"], got["seed_idle_limit"]), (1.0, 600))
            with open(config, "w") as f:
                f.write("ratio_limit = 5\nseed_idle_limit = 7200\n")
            daemon.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: count_lines(daemon, "configuration reloaded") == 2, 10, "reload 2")
            got = daemon.rpc("session.get")
            self.assertEqual((got["ratio_limit"], got["seed_idle_limit"]), (1.0, 7200))
            self.assertIn("reload: seed_idle_limit = 7200 (was 0)", daemon.log())
            self.assertNotIn("needs a restart", daemon.log())
            rc, _ = daemon.signal_and_wait()
            self.assertEqual(rc, 0)


if __name__ == "__main__":
    unittest.main()
