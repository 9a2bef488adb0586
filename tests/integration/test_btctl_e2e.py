#!/usr/bin/python3
"""btctl end to end against a real btd daemon.

Two torrents (a 24 MiB single file and a 24 MiB multi-file folder) are each seeded by a
libtorrent peer capped at 2 MiB/s, through one opentracker. Everything the user does goes through
btctl: add, list (JSON and table), info, pause/resume (progress must stop, then go on), remove
with --delete-data, the error cases (unknown and ambiguous ids, wrong token, no daemon), and a
restart that must bring the remaining job back as seeding without a hash check.

Needs BTD_BIN and BTCTL_BIN (ctest sets both).
"""

import hashlib
import json
import os
import re
import signal
import time
import unittest

import harness as H
from test_daemon_lifecycle import BtdDaemon

SEED_RATE = 2 * H.MIB  # per seeder: 24 MiB take ~12 s, time enough to watch progress
SINGLE_NAME = "alpha.bin"
SINGLE_SIZE = 24 * H.MIB + 4321
MULTI_LAYOUT = [
    ("a.bin", 5 * H.MIB + 123),
    ("empty.txt", 0),
    ("sub/b.bin", 9 * H.MIB + 7),
    ("sub/deeper/c.bin", 10 * H.MIB - 130),
    ("z.txt", 1000),
]
POLL_TIMEOUT = H.LEECH_TIMEOUT


def info_hash_with_name(torrent_path, name):
    """The info-hash the torrent would have if its top-level name were `name` (piece hashes do
    not depend on the name, so no re-hashing of the data is needed)."""
    import libtorrent as lt

    with open(torrent_path, "rb") as f:
        meta = lt.bdecode(f.read())
    info = dict(meta[b"info"])
    info[b"name"] = name.encode()
    return hashlib.sha1(lt.bencode(info)).hexdigest()


class BtctlEndToEnd(unittest.TestCase):
    def setUp(self):
        H.btctl_binary()  # fail early with a clear message
        H.btd_binary()
        self.daemon = None
        self.seeders = []
        self._tmp = H.TempDir(prefix="btd-btctl-")
        self.dir = self._tmp.__enter__()
        self.addCleanup(self._tmp.__exit__, None, None, None)
        self.src = os.path.join(self.dir, "src")
        self.dl = os.path.join(self.dir, "download")
        self.state = os.path.join(self.dir, "state")
        os.makedirs(self.dl)
        self.make_torrents()

    # -- setup ---------------------------------------------------------------------------------

    def make_torrents(self):
        H.make_payload(self.src, H.layout_single(SINGLE_SIZE, SINGLE_NAME), seed=11)
        _, hash_a = H.make_torrent(os.path.join(self.src, SINGLE_NAME), [],
                                   out_path=os.path.join(self.dir, "probe-a.torrent"))
        multi_tmp = os.path.join(self.src, "beta")
        H.make_payload(multi_tmp, MULTI_LAYOUT, seed=22)
        probe_b, _ = H.make_torrent(multi_tmp, [],
                                    out_path=os.path.join(self.dir, "probe-b.torrent"))
        # Choose the folder's name so both info-hashes share their first hex digit: then a
        # 1-character prefix is ambiguous, which the error checks need.
        for k in range(1000):
            name = f"beta-{k}"
            if info_hash_with_name(probe_b, name)[0] == hash_a[0]:
                break
        else:
            raise AssertionError("no folder name gives a shared first hex digit")
        self.multi_name = name
        os.rename(multi_tmp, os.path.join(self.src, name))

        self.tracker = H.Tracker([hash_a, info_hash_with_name(probe_b, name)]).__enter__()
        self.addCleanup(self.tracker.__exit__, None, None, None)
        url = self.tracker.http_url
        self.torrent_a, self.id_a = H.make_torrent(
            os.path.join(self.src, SINGLE_NAME), [url],
            out_path=os.path.join(self.dir, "alpha.torrent"))
        self.torrent_b, self.id_b = H.make_torrent(
            os.path.join(self.src, name), [url], out_path=os.path.join(self.dir, "beta.torrent"))
        self.assertEqual(self.id_a, hash_a)
        self.assertEqual(self.id_b, info_hash_with_name(probe_b, name))
        self.assertEqual(self.id_a[0], self.id_b[0])
        self.assertNotEqual(self.id_a, self.id_b)

        for torrent in (self.torrent_a, self.torrent_b):
            peer = H.LtPeer(torrent, self.src, mode="seed", upload_limit=SEED_RATE).start()
            self.addCleanup(peer.stop)
            self.seeders.append(peer)
            peer.wait_ready(60)
        self.addCleanup(lambda: H.log("seeders at the end:" + self.seeders_report()))

    # -- helpers -------------------------------------------------------------------------------

    def btctl(self, *args, expect_rc=0, state_dir="default"):
        res = H.run_btctl(list(args), state_dir=self.state if state_dir == "default"
                          else state_dir)
        if expect_rc is not None:
            self.assertEqual(res.returncode, expect_rc,
                             f"btctl {' '.join(args)}: exit {res.returncode}\n"
                             f"stdout: {res.stdout}\nstderr: {res.stderr}\n"
                             + (self.daemon.log()[-3000:] if self.daemon else ""))
        return res

    def list_json(self):
        res = self.btctl("list", "--json")
        self.assertEqual(res.stderr, "")
        rows = json.loads(res.stdout)  # --json: JSON only
        return {row["id"]: row for row in rows}

    def wait_until(self, what, predicate, timeout=POLL_TIMEOUT, interval=0.3):
        """Polls `btctl list --json` until predicate(rows) holds; returns the rows."""
        deadline = time.monotonic() + timeout
        rows = {}
        while time.monotonic() < deadline:
            rows = self.list_json()
            for row in rows.values():
                if row["state"] == "error":
                    self.fail(f"{row['name']} failed: {row['error']}\n"
                              + self.daemon.log()[-3000:])
            if predicate(rows):
                return rows
            time.sleep(interval)
        self.fail(f"not {what} within {timeout}s: {rows}\n" + self.daemon.log()[-3000:]
                  + self.seeders_report())

    def seeders_report(self):
        """Whether each libtorrent seeder still runs, and its last lines: a seeder that died
        explains a stall that btd cannot."""
        out = []
        for peer in self.seeders:
            rc = peer.proc.poll()
            out.append(f"\nseeder on port {peer.port}: "
                       + ("running" if rc is None else f"exited {rc}") + "\n  "
                       + "\n  ".join(peer.lines[-12:]))
        return "".join(out)

    # -- the test ------------------------------------------------------------------------------

    def test_btctl_end_to_end(self):
        self.daemon = BtdDaemon(self.state, self.dl)
        self.addCleanup(self.daemon.stop)
        self.daemon.start()

        self.check_add()
        self.check_progress_and_info_while_downloading()
        self.check_pause_resume()
        self.check_completion()
        self.check_errors()
        self.check_remove_with_data()
        self.check_restart_without_rehash()

    def check_add(self):
        for torrent, tid, name in ((self.torrent_a, self.id_a, SINGLE_NAME),
                                   (self.torrent_b, self.id_b, self.multi_name)):
            res = self.btctl("add", torrent)
            self.assertIn(tid, res.stdout)
            self.assertRegex(res.stdout, rf"^added: {re.escape(name)} \({tid}\)\s*$")
        res = self.btctl("add", self.torrent_a)  # the same again: reported, not an error
        self.assertIn("already added", res.stdout)
        self.assertEqual(set(self.list_json()), {self.id_a, self.id_b})

    def check_progress_and_info_while_downloading(self):
        self.wait_until("both downloading", lambda r: all(
            r[t]["state"] == "downloading" and r[t]["progress"] > 0
            for t in (self.id_a, self.id_b)))
        samples = []
        for _ in range(4):
            rows = self.list_json()
            samples.append({t: (rows[t]["state"], rows[t]["progress"])
                            for t in (self.id_a, self.id_b)})
            time.sleep(1.5)
        H.log(f"progress samples: {samples}")
        for tid in (self.id_a, self.id_b):
            states = [s[tid][0] for s in samples]
            progress = [s[tid][1] for s in samples]
            self.assertEqual(states, ["downloading"] * len(samples), tid)
            # Never backwards, and forward over the 4.5 s (one 1.5 s gap may see no new piece
            # on a loaded machine; the old build showed the same, 1 run in 3 under load).
            for before, after in zip(progress, progress[1:]):
                self.assertGreaterEqual(after, before, f"{tid}: progress {progress}")
            self.assertGreater(progress[-1], progress[0], f"{tid}: progress {progress}")
            self.assertLess(progress[-1], 1.0, "the rate limit should make this slower")

        info = json.loads(self.btctl("info", self.id_b[:10], "--json").stdout)
        self.assertEqual(info["id"], self.id_b)
        self.assertEqual(info["name"], self.multi_name)
        paths = sorted(f["path"].replace("\\", "/") for f in info["files"])
        expected = sorted(p for p, _ in MULTI_LAYOUT)
        self.assertEqual([p.split("/", 1)[-1] if p.startswith(self.multi_name + "/") else p
                          for p in paths], expected, info["files"])
        self.assertEqual(sum(f["size"] for f in info["files"]),
                         sum(s for _, s in MULTI_LAYOUT))
        self.assertEqual([t["url"] for t in info["trackers"]], [self.tracker.http_url])
        self.assertIsInstance(info["peers"], list)
        self.assertGreaterEqual(len(info["peers"]), 1, "the seeder should be connected")
        self.assertIn("127.0.0.1", info["peers"][0]["address"])
        self.assertIsInstance(info["pieces"], str)

        human = self.btctl("info", self.id_b[:10]).stdout
        self.assertIn(self.multi_name, human)

    def check_pause_resume(self):
        prefix = self.id_a[:6]
        res = self.btctl("pause", prefix)
        self.assertIn("paused", res.stdout)
        rows = self.wait_until("paused", lambda r: r[self.id_a]["state"] == "paused", 10)
        time.sleep(1.0)  # blocks already in flight may still land
        frozen = self.list_json()[self.id_a]["progress"]
        other_before = self.list_json()[self.id_b]["progress"]
        time.sleep(3.0)
        rows = self.list_json()
        self.assertEqual(rows[self.id_a]["state"], "paused")
        self.assertEqual(rows[self.id_a]["progress"], frozen, "paused torrent kept downloading")
        # (download_rate is a 5 s window average, so it may not be 0 yet; peers must be.)
        self.assertEqual(rows[self.id_a]["peers"], 0, rows[self.id_a])
        self.assertLess(frozen, 1.0)
        if other_before < 1.0:
            self.assertGreater(rows[self.id_b]["progress"], other_before,
                               "pausing one torrent stopped the other")
        H.log(f"paused at {frozen:.3f}; resuming")

        self.btctl("resume", prefix)
        self.wait_until("resumed and progressing", lambda r: r[self.id_a]["state"] in (
            "downloading", "seeding") and r[self.id_a]["progress"] > frozen, 30)

    def check_completion(self):
        rows = self.wait_until("both seeding", lambda r: all(
            r[t]["state"] == "seeding" for t in (self.id_a, self.id_b)))
        for tid in (self.id_a, self.id_b):
            self.assertEqual(rows[tid]["progress"], 1)
        self.assertEqual(rows[self.id_a]["size"], SINGLE_SIZE)
        self.assertEqual(rows[self.id_b]["size"], sum(s for _, s in MULTI_LAYOUT))
        H.compare_trees(os.path.join(self.src, SINGLE_NAME), os.path.join(self.dl, SINGLE_NAME))
        H.compare_trees(os.path.join(self.src, self.multi_name),
                        os.path.join(self.dl, self.multi_name))

        info = json.loads(self.btctl("info", self.id_b, "--json").stdout)
        self.assertTrue(all(f["progress"] == 1 for f in info["files"]), info["files"])
        self.assertEqual(info["pieces"], "1" * len(info["pieces"]))

        table = self.btctl("list").stdout.splitlines()
        H.log("btctl list:\n" + "\n".join(table))
        self.assertEqual(table[0].split(),
                         ["ID", "NAME", "STATE", "DONE", "SIZE", "DOWN", "UP", "PEERS", "ETA"])
        self.assertEqual(len(table), 3, table)
        for line in table[1:]:
            self.assertIn("seeding", line)
            self.assertIn("100.0%", line)
        line_a = next(line for line in table[1:] if line.startswith(self.id_a[:8]))
        self.assertIn(SINGLE_NAME, line_a)
        self.assertIn("24.0 MiB", line_a)

    def check_errors(self):
        # Unknown id: a prefix that matches neither torrent.
        unknown = next(c for c in "0123456789abcdef" if c != self.id_a[0]) + "0f0f0f"
        for args in (("info", unknown), ("pause", unknown), ("remove", unknown)):
            res = self.btctl(*args, expect_rc=None)
            self.assertNotEqual(res.returncode, 0, args)
            self.assertEqual(res.returncode, 2, res.stderr)
            self.assertIn("no torrent with id", res.stderr)
            self.assertEqual(res.stdout, "")
        # Ambiguous: both ids start with the same digit (see make_torrents).
        res = self.btctl("info", self.id_a[0], expect_rc=2)
        self.assertIn("ambiguous", res.stderr)
        self.assertIn(self.id_a, res.stderr)
        self.assertIn(self.id_b, res.stderr)
        res = self.btctl("pause", "not-hex", expect_rc=2)
        self.assertIn("not a torrent id", res.stderr)
        # Nothing was paused by the failed commands.
        rows = self.list_json()
        self.assertEqual({r["state"] for r in rows.values()}, {"seeding"})

        # Wrong token: refused with the auth exit code.
        res = self.btctl("--token", "wrong", "list", expect_rc=4)
        self.assertIn("401", res.stderr)
        self.assertEqual(res.stdout, "")

        # Nothing listening.
        port = H.free_port()
        url = f"http://127.0.0.1:{port}/rpc"
        res = self.btctl("--rpc", url, "list", expect_rc=3, state_dir=None)
        self.assertIn(f"cannot reach btd at {url}", res.stderr)
        self.assertIn("refused", res.stderr)

    def check_remove_with_data(self):
        res = self.btctl("remove", self.id_b[:12], "--delete-data")
        self.assertIn("removed", res.stdout)
        multi_dir = os.path.join(self.dl, self.multi_name)
        deadline = time.monotonic() + 15
        while os.path.exists(multi_dir) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertFalse(os.path.exists(multi_dir),
                         f"left behind: {list(os.walk(multi_dir))}")
        rows = self.list_json()
        self.assertEqual(list(rows), [self.id_a])
        self.assertEqual(rows[self.id_a]["state"], "seeding")
        self.assertEqual(os.listdir(self.dl), [SINGLE_NAME])
        H.compare_trees(os.path.join(self.src, SINGLE_NAME), os.path.join(self.dl, SINGLE_NAME))
        res = self.btctl("info", self.id_b, expect_rc=2)
        self.assertIn("no torrent with id", res.stderr)

    def check_restart_without_rehash(self):
        rc, took = self.daemon.signal_and_wait(signal.SIGTERM, 5.0)
        self.assertEqual(rc, 0, self.daemon.log()[-3000:])
        H.log(f"btd exited 0 in {took:.2f}s")
        # Stale rpc.address, nothing listening: btctl says so.
        res = self.btctl("list", expect_rc=3)
        self.assertIn("cannot reach btd", res.stderr)

        self.daemon.start()  # returns as soon as rpc.address exists
        states = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            listed = self.daemon.rpc("torrent.list", {"fields": ["state", "progress"]})
            states.append([(t["id"], t["state"]) for t in listed])
            if listed and listed[0]["state"] == "seeding":
                break
            time.sleep(0.02)
        H.log(f"states after restart: {states[:3]} ... {states[-1]} ({len(states)} polls)")
        self.assertEqual(states[-1], [(self.id_a, "seeding")])
        seen = {state for poll in states for _, state in poll}
        self.assertNotIn("checking", seen, "the job was hash-checked again after a clean stop")

        rows = self.list_json()
        self.assertEqual(list(rows), [self.id_a])
        self.assertEqual(rows[self.id_a]["progress"], 1)
        log = self.daemon.log()
        pieces = (SINGLE_SIZE + 256 * H.KIB - 1) // (256 * H.KIB)
        self.assertIn(f"restored {SINGLE_NAME}: resume data for {pieces} of {pieces} pieces",
                      log)
        self.assertNotIn(f"{SINGLE_NAME}: now checking", log)
        self.assertNotIn(self.multi_name, log, "the removed job came back")
        H.compare_trees(os.path.join(self.src, SINGLE_NAME), os.path.join(self.dl, SINGLE_NAME))

        rc, _ = self.daemon.signal_and_wait(signal.SIGTERM, 5.0)
        self.assertEqual(rc, 0)


if __name__ == "__main__":
    unittest.main()
