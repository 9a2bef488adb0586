#!/usr/bin/python3
"""Debian's transmission-remote (3.00) drives btd through /transmission/rpc: add a .torrent,
download it from a libtorrent seeder (every byte compared), list, info, files, stop, start,
verify, session info and stats, remove and remove-and-delete; and the HTTP handshake (401 Basic
before 409 X-Transmission-Session-Id) from a raw client.

Skips when transmission-remote is not installed (Debian package transmission-cli).
"""

import base64
import http.client
import json
import os
import re
import shutil
import subprocess
import time
import unittest

import harness as H
from test_daemon_lifecycle import DaemonTestCase

REMOTE = shutil.which("transmission-remote")


@unittest.skipUnless(REMOTE, "transmission-remote is not installed (apt install transmission-cli)")
class TransmissionRemote(DaemonTestCase):
    def setUp(self):
        self.swarm = self.make_swarm(3 * H.MIB + 12345, "tr.bin")
        self.daemon = self.make_daemon(self.swarm).start()

    def remote(self, *args, check=True):
        env = dict(os.environ, TR_AUTH=f"btd:{self.daemon.secret}")
        res = subprocess.run([REMOTE, self.daemon.address, "-ne", *args], env=env,
                             capture_output=True, text=True, timeout=60)
        H.log(f"transmission-remote {' '.join(args)} -> {res.returncode}\n{res.stdout}{res.stderr}")
        if check:
            self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
            self.assertNotIn("Error", res.stdout + res.stderr)
        return res.stdout

    def list_row(self, torrent_id):
        for line in self.remote("-l").splitlines():
            fields = line.split()
            if fields and fields[0].rstrip("*") == str(torrent_id):
                return line
        return None

    def wait_list(self, torrent_id, pattern, timeout):
        deadline = time.monotonic() + timeout
        row = None
        while time.monotonic() < deadline:
            row = self.list_row(torrent_id)
            if row and re.search(pattern, row):
                return row
            time.sleep(0.5)
        raise AssertionError(f"-l row {row!r} never matched {pattern!r}\n"
                             + self.daemon.log()[-3000:])

    def raw(self, method="POST", headers=None, body=None):
        host, port = self.daemon.address.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.request(method, "/transmission/rpc", body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def test_handshake_from_a_raw_client(self):
        basic = "Basic " + base64.b64encode(f"anyone:{self.daemon.secret}".encode()).decode()
        status, headers, _ = self.raw("GET")
        self.assertEqual(status, 401)
        self.assertEqual(headers.get("WWW-Authenticate"), 'Basic realm="btd"')
        status, _, _ = self.raw(headers={"Authorization": "Basic "
                                         + base64.b64encode(b"anyone:wrong").decode()})
        self.assertEqual(status, 401)
        for method in ("GET", "POST"):
            status, headers, _ = self.raw(method, {"Authorization": basic})
            self.assertEqual(status, 409, method)
            session_id = headers["X-Transmission-Session-Id"]
            self.assertNotIn("X-Transmission-Rpc-Version", headers)
        body = json.dumps({"method": "session-get", "arguments": {"fields": ["version"]},
                           "tag": 77})
        status, headers, reply = self.raw(
            headers={"Authorization": basic, "X-Transmission-Session-Id": session_id}, body=body)
        self.assertEqual(status, 200)
        self.assertNotIn("X-Transmission-Rpc-Version", headers)
        reply = json.loads(reply)
        self.assertEqual(reply["result"], "success")
        self.assertEqual(reply["tag"], 77)
        self.assertTrue(reply["arguments"]["version"].startswith("4.0.0 (btd "))
        status, _, _ = self.raw(headers={"Authorization": basic, "X-Transmission-Session-Id":
                                         session_id, "Host": "evil.example"}, body=body)
        self.assertEqual(status, 403)  # the Host allow-list of /rpc applies
        status, _, _ = self.raw(headers={"Authorization": basic, "X-Transmission-Session-Id":
                                         session_id, "Origin": "http://evil.example"}, body=body)
        self.assertEqual(status, 403)  # and so does the Origin refusal

    def test_transmission_remote_end_to_end(self):
        sw = self.swarm
        self.assertIn("success", self.remote("-a", sw.torrent))
        info = self.remote("-t", "1", "-i")
        self.assertIn(f"Hash: {sw.info_hash}", info)
        self.assertIn("Name: tr.bin", info)
        self.wait_list(1, r"100%.*(Seeding|Idle)", H.LEECH_TIMEOUT)
        sw.check_download()
        files = self.remote("-t", "1", "-f")
        self.assertRegex(files, r"0: +100% +Normal +Yes +3\.\d+ MB +tr\.bin")
        # secondsDownloading / secondsSeeding: shown by -i once above 0.
        deadline = time.monotonic() + 20
        while "Seeding Time:" not in info and time.monotonic() < deadline:
            time.sleep(0.5)
            info = self.remote("-t", "1", "-i")
        self.assertRegex(info, r"Seeding Time: +\d+ (second|minute)")

        self.remote("-t", "1", "-S")
        self.wait_list(1, r"Stopped", 20)
        self.remote("-t", sw.info_hash, "-s")
        self.wait_list(1, r"100%.*(Seeding|Idle)", 30)
        self.remote("-t", "1", "-v")
        self.wait_list(1, r"100%.*(Seeding|Idle)", 60)  # verified again: still complete
        sw.check_download()

        si = self.remote("-si")
        self.assertIn("Daemon version: 4.0.0 (btd ", si)
        self.assertIn("RPC version: 17", si)
        self.assertIn(f"Download directory: {os.path.abspath(sw.dl_dir)}", si)
        st = self.remote("-st")
        self.assertRegex(st, r"CURRENT SESSION\n +Uploaded: .*\n +Downloaded: +3\.\d+ MB")

        self.remote("-t", "1", "-r")
        self.assertIsNone(self.list_row(1))
        self.assertTrue(os.path.exists(os.path.join(sw.dl_dir, "tr.bin")))  # data kept
        self.assertIn("success", self.remote("-a", sw.torrent))
        self.wait_list(1, r"100%", 60)  # the same id comes back for the same torrent
        self.remote("-t", "1", "--remove-and-delete")
        self.assertIsNone(self.list_row(1))
        self.assertFalse(os.path.exists(os.path.join(sw.dl_dir, "tr.bin")))

    def test_seconds_downloading_and_seeding_kept_across_restarts(self):
        sw = self.swarm
        self.daemon.rpc("session.set", {"download_rate_limit": H.MIB})  # ~3 s downloading
        tid = self.daemon.add(sw.torrent)["id"]
        self.daemon.wait_state(tid, "seeding", H.LEECH_TIMEOUT)
        sw.check_download()
        self.daemon.rpc("session.set", {"download_rate_limit": 0})
        fields = {"ids": [tid], "fields": ["secondsDownloading", "secondsSeeding"]}

        def seconds():  # a new client each time: a restart moves the RPC port
            client = TransmissionClient(self.daemon.address, self.daemon.secret)
            t = client.call("torrent-get", fields)["arguments"]["torrents"][0]
            mine = self.daemon.rpc("torrent.get", {"id": tid})
            self.assertEqual((t["secondsDownloading"], t["secondsSeeding"]),
                             (mine["seconds_downloading"], mine["seconds_seeding"]))
            return t["secondsDownloading"], t["secondsSeeding"]

        deadline = time.monotonic() + 20
        while seconds()[1] < 3 and time.monotonic() < deadline:
            time.sleep(0.5)
        down, seed = seconds()
        H.log(f"secondsDownloading {down}, secondsSeeding {seed}")
        self.assertGreaterEqual(seed, 3)
        self.assertGreaterEqual(down, 1)
        self.assertLess(down, 60)
        self.daemon.rpc("torrent.pause", {"ids": [tid]})
        paused = seconds()
        time.sleep(2.5)
        self.assertEqual(seconds(), paused)  # paused: neither counts
        rc, _ = self.daemon.signal_and_wait()
        self.assertEqual(rc, 0)
        self.daemon.start()
        self.assertEqual(seconds(), paused)  # from the resume data

    def test_corrupt_ever_counts_the_pieces_that_failed(self):
        """corruptEver: the bytes of every piece that failed its hash check (a seeder corrupts
        a quarter of them; a good one, capped, supplies the rest), kept across a restart."""
        piece = 256 * H.KIB
        size = 32 * piece
        with H.Swarm(H.layout_single(size, "bad.bin"), "bad.bin", tracker="http") as sw:
            bad = sw.add_seeder(corrupt_pieces=8)
            sw.add_seeder(upload_limit=2 * H.MIB)
            tid = self.daemon.rpc("torrent.add", {"path": sw.torrent,
                                                  "download_dir": sw.dl_dir})["id"]
            self.daemon.wait_state(tid, "seeding", H.LEECH_TIMEOUT)
            sw.check_download()
            self.assertGreater(len(bad.lines_with("CORRUPT_SENT")), 0,
                               "the corrupt seeder sent nothing: nothing was tested")
            failed = self.daemon.log().count("failed its hash check")

            def corrupt_ever():
                client = TransmissionClient(self.daemon.address, self.daemon.secret)
                reply = client.call("torrent-get", {"ids": [tid], "fields": ["corruptEver"]})
                return reply["arguments"]["torrents"][0]["corruptEver"]

            self.assertGreaterEqual(failed, 1)
            self.assertEqual(corrupt_ever(), failed * piece)
            rc, _ = self.daemon.signal_and_wait()
            self.assertEqual(rc, 0)
            self.daemon.start()
            self.assertEqual(corrupt_ever(), failed * piece)

    def test_activity_and_start_dates_and_peer_sources(self):
        """activityDate (payload last moved, kept across restarts), startDate (last start of
        this run) and peersFrom (connected peers by who named them) are btd's real values."""
        sw = self.swarm
        started = int(time.time())
        self.daemon.rpc("session.set", {"download_rate_limit": H.MIB // 4})  # ~12 s
        tid = self.daemon.add(sw.torrent)["id"]
        fields = ["activityDate", "startDate", "peersFrom", "peersConnected", "isStalled",
                  "status", "desiredAvailable", "manualAnnounceTime", "leftUntilDone",
                  "corruptEver"]

        def get():  # a new client each time: a restart moves the RPC port
            client = TransmissionClient(self.daemon.address, self.daemon.secret)
            reply = client.call("torrent-get", {"ids": [tid], "fields": fields})
            return reply["arguments"]["torrents"][0]

        deadline = time.monotonic() + H.LEECH_TIMEOUT
        t = get()
        while not (t["status"] == 4 and t["peersConnected"] > 0 and t["activityDate"] > 0):
            self.assertLess(time.monotonic(), deadline, t)
            time.sleep(0.3)
            t = get()
        H.log(f"while downloading: {t}")
        self.assertEqual(sum(t["peersFrom"].values()), t["peersConnected"])
        self.assertGreaterEqual(t["peersFrom"]["fromTracker"], 1)  # the seeder, via opentracker
        self.assertFalse(t["isStalled"])
        self.assertTrue(started <= t["startDate"] <= t["activityDate"] <= time.time() + 1, t)
        # The seeder has every piece: all that is left is available (whole pieces, so the
        # piece in progress may count in full), and a reannounce may go after the tracker's
        # min interval, not before this run started.
        self.assertGreater(t["desiredAvailable"], 0, t)
        self.assertLessEqual(t["desiredAvailable"], t["leftUntilDone"] + sw.piece_length, t)
        self.assertGreaterEqual(t["manualAnnounceTime"], started, t)
        self.assertEqual(t["corruptEver"], 0, t)
        self.daemon.rpc("session.set", {"download_rate_limit": 0})
        self.daemon.wait_state(tid, "seeding", H.LEECH_TIMEOUT)
        sw.check_download()
        self.daemon.rpc("torrent.pause", {"ids": [tid]})
        time.sleep(1.5)  # a tick notes the last payload
        paused = get()
        self.assertEqual((paused["desiredAvailable"], paused["manualAnnounceTime"]), (0, 0), paused)
        last = paused["activityDate"]
        self.assertGreaterEqual(last, t["activityDate"])
        time.sleep(1.5)
        rc, _ = self.daemon.signal_and_wait()
        self.assertEqual(rc, 0)
        self.daemon.start()
        restarted = int(time.time())
        t = get()
        self.assertEqual((t["activityDate"], t["startDate"]), (last, 0))  # kept; not started
        self.daemon.rpc("torrent.resume", {"ids": [tid]})
        deadline = time.monotonic() + 30
        while get()["startDate"] == 0 and time.monotonic() < deadline:
            time.sleep(0.3)
        self.assertGreaterEqual(get()["startDate"], restarted)

    def test_refusals_are_reported(self):
        self.remote("-a", self.swarm.torrent)
        self.remote("-t", "1", "--reannounce")  # supported now: asks the tracker
        out = self.remote("-pt", check=False)
        self.assertIn("no outside service", out)
        out = self.remote("-a", "magnet:?xt=urn:btih:12345", check=False)  # malformed
        self.assertNotIn("success", out)
        self.assertIn("magnet", out)


DAEMON = shutil.which("transmission-daemon")


def json_kind(value):
    """The JSON type a client sees (ints and reals are both numbers)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


class TransmissionClient:
    """A raw /transmission/rpc client doing the 409 dance; optional Basic auth."""

    def __init__(self, address, secret=None):
        self.address, self.secret, self.session_id = address, secret, ""

    def call(self, method, arguments=None, omit_arguments=False):
        host, port = self.address.rsplit(":", 1)
        headers = {"X-Transmission-Session-Id": self.session_id,
                   "Content-Type": "application/json"}
        if self.secret:
            headers["Authorization"] = "Basic " + base64.b64encode(
                f"btd:{self.secret}".encode()).decode()
        request = {"method": method}
        if not omit_arguments:  # Sonarr sends session-get without "arguments"
            request["arguments"] = arguments or {}
        body = json.dumps(request)
        for _ in range(2):
            conn = http.client.HTTPConnection(host, int(port), timeout=20)
            conn.request("POST", "/transmission/rpc", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            if resp.status != 409:
                break
            self.session_id = headers["X-Transmission-Session-Id"] = \
                resp.getheader("X-Transmission-Session-Id")
        assert resp.status == 200, (resp.status, data)
        return json.loads(data)


@unittest.skipUnless(REMOTE and DAEMON, "transmission-daemon is not installed")
class SameShapeAsTransmission(DaemonTestCase):
    """btd's replies have the fields and JSON types of Debian's transmission-daemon 3.00's, for
    the same torrent (every field btd answers must exist in Transmission with the same type)."""

    def start_transmission(self, swarm):
        conf = os.path.join(swarm.dir, "tr-config")
        os.makedirs(conf)
        rpc_port, peer_port = H.free_port(), H.free_port()
        settings = {"rpc-bind-address": "127.0.0.1", "rpc-port": rpc_port,
                    "rpc-authentication-required": False, "rpc-whitelist": "127.0.0.1",
                    "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
                    "peer-port": peer_port, "peer-port-random-on-start": False,
                    "dht-enabled": False, "lpd-enabled": False, "utp-enabled": False,
                    "pex-enabled": False, "port-forwarding-enabled": False,
                    "download-dir": os.path.join(swarm.dir, "tr-download"),
                    "incomplete-dir-enabled": False, "message-level": 1}
        with open(os.path.join(conf, "settings.json"), "w") as f:
            json.dump(settings, f)
        log = open(os.path.join(swarm.dir, "transmission.log"), "wb")
        self.addCleanup(log.close)
        proc = H.spawn([DAEMON, "-f", "-g", conf], stdout=log, stderr=log,
                       stdin=subprocess.DEVNULL)
        self.addCleanup(H.kill_process, proc)
        H.wait_for_tcp(rpc_port, 30, proc)
        return TransmissionClient(f"127.0.0.1:{rpc_port}")

    def test_fields_and_types_match(self):
        swarm = self.make_swarm(2 * H.MIB + 1, "shape.bin")
        btd = self.make_daemon(swarm).start()
        ours = TransmissionClient(btd.address, btd.secret)
        theirs = self.start_transmission(swarm)
        with open(swarm.torrent, "rb") as f:
            metainfo = base64.b64encode(f.read()).decode()
        for client in (ours, theirs):
            reply = client.call("torrent-add", {"metainfo": metainfo, "paused": True})
            self.assertEqual(reply["result"], "success", reply)
            self.assertIn("torrent-added", reply["arguments"])
            again = client.call("torrent-add", {"metainfo": metainfo})
            self.assertIn("torrent-duplicate", again["arguments"])
        self.compare(ours, theirs, "session-get", {})
        self.compare(ours, theirs, "session-stats", {})
        mine = self.settled(ours)
        real = self.settled(theirs)
        self.assert_same_shape(mine, real, "torrent-get")
        for name in ("files", "fileStats", "trackers", "trackerStats"):
            self.assertEqual(len(mine[name]), len(real[name]), name)
            self.assert_same_shape(mine[name][0], real[name][0], name)
        for name in ("hashString", "name", "totalSize", "sizeWhenDone", "leftUntilDone",
                     "status", "pieceCount", "pieceSize", "wanted", "priorities",
                     "isPrivate", "percentDone", "error", "eta", "magnetLink"):
            self.assertEqual(mine[name], real[name], name)

    def test_sonarr_and_homepage_requests_replayed(self):
        """The request bodies Sonarr's TransmissionProxy (v4) and Homepage's transmission widget
        send, in their shape (field lists from their source), answered by btd and by Debian's
        transmission-daemon for the same torrent: same result, same fields, same JSON types."""
        swarm = self.make_swarm(H.MIB + 99, "replay.bin")
        btd = self.make_daemon(swarm).start()
        ours = TransmissionClient(btd.address, btd.secret)
        theirs = self.start_transmission(swarm)
        with open(swarm.torrent, "rb") as f:
            metainfo = base64.b64encode(f.read()).decode()
        for client in (ours, theirs):  # Sonarr: AddTorrentFromData, then its seed config
            added = client.call("torrent-add", {"metainfo": metainfo, "paused": True,
                                                "download-dir": swarm.dl_dir})
            self.assertEqual(added["result"], "success", added)
            # SetTorrentSeedingConfiguration: ratio, and the seed time as an idle limit (min).
            ratio = client.call("torrent-set", {"ids": [swarm.info_hash], "seedRatioLimit": 1.5,
                                                "seedRatioMode": 1, "seedIdleLimit": 90,
                                                "seedIdleMode": 1})
            self.assertEqual(ratio["result"], "success", ratio)
        self.compare(ours, theirs, "session-get", None)  # Sonarr: GetConfig
        # Flood's settings page asks for these: every one answered, with Transmission's type.
        mine = ours.call("session-get", {"fields": FLOOD_SESSION_FIELDS})["arguments"]
        self.assertEqual(set(FLOOD_SESSION_FIELDS) - set(mine), set())
        self.compare(ours, theirs, "session-get", {"fields": FLOOD_SESSION_FIELDS})
        self.compare(ours, theirs, "session-stats", None)
        for fields in (SONARR_FIELDS, HOMEPAGE_FIELDS, FLOOD_FIELDS, HOMARR_FIELDS):
            for ids in (None, [swarm.info_hash]):
                args = {"fields": fields}
                if ids:
                    args["ids"] = ids
                mine, real = ours.call("torrent-get", args), theirs.call("torrent-get", args)
                self.assertEqual(mine["result"], real["result"])
                self.assertEqual(len(mine["arguments"]["torrents"]), 1)
                m, r = mine["arguments"]["torrents"][0], real["arguments"]["torrents"][0]
                self.assert_same_shape(m, r, f"torrent-get {fields[:3]}")
                # What Transmission answers, btd answers too (but for the fields it lacks).
                missing = set(r) - set(m) - BTD_LACKS
                self.assertEqual(missing, set(), "fields Transmission answers and btd does not")
        mine = ours.call("torrent-get", {"ids": [swarm.info_hash], "fields": SONARR_FIELDS})
        t = mine["arguments"]["torrents"][0]
        self.assertEqual((t["seedRatioLimit"], t["seedRatioMode"]), (1.5, 1))  # read back
        self.assertEqual((t["seedIdleLimit"], t["seedIdleMode"]), (90, 1))
        real = theirs.call("torrent-get", {"ids": [swarm.info_hash], "fields": SONARR_FIELDS})
        r = real["arguments"]["torrents"][0]
        self.assertEqual((r["seedIdleLimit"], r["seedIdleMode"]), (90, 1))  # as Transmission
        self.assertEqual(t["downloadDir"], os.path.abspath(swarm.dl_dir))
        for client in (ours, theirs):  # Sonarr: RemoveTorrent
            gone = client.call("torrent-remove", {"ids": [swarm.info_hash],
                                                  "delete-local-data": False})
            self.assertEqual(gone["result"], "success")
            left = client.call("torrent-get", {"fields": HOMEPAGE_FIELDS})
            self.assertEqual(left["arguments"]["torrents"], [])

    def test_seed_modes_set_alone_and_read_back(self):
        """seedIdleMode/seedRatioMode as Transmission: 1 alone takes the torrent's own limit
        (Transmission's copy of the session's at add), 2 none, 0 the session's; raw bodies
        answered by btd and transmission-daemon alike, read back through torrent-get."""
        swarm = self.make_swarm(H.MIB + 5, "modes.bin")
        btd = self.make_daemon(swarm).start()
        ours = TransmissionClient(btd.address, btd.secret)
        theirs = self.start_transmission(swarm)
        with open(swarm.torrent, "rb") as f:
            metainfo = base64.b64encode(f.read()).decode()
        fields = ["seedIdleLimit", "seedIdleMode", "seedRatioLimit", "seedRatioMode"]
        for client in (ours, theirs):
            done = client.call("session-set", {"idle-seeding-limit": 45,
                                               "idle-seeding-limit-enabled": True,
                                               "seedRatioLimit": 2.5, "seedRatioLimited": True})
            self.assertEqual(done["result"], "success", done)
            added = client.call("torrent-add", {"metainfo": metainfo, "paused": True})
            self.assertEqual(added["result"], "success", added)
        steps = [({"seedIdleMode": 1}, {"seedIdleLimit": 45, "seedIdleMode": 1}),
                 ({"seedRatioMode": 1}, {"seedRatioLimit": 2.5, "seedRatioMode": 1}),
                 ({"seedIdleLimit": 20}, {"seedIdleLimit": 20, "seedIdleMode": 1}),
                 ({"seedRatioLimit": 1.25}, {"seedRatioLimit": 1.25, "seedRatioMode": 1}),
                 ({"seedIdleMode": 1}, {"seedIdleLimit": 20, "seedIdleMode": 1}),
                 ({"seedIdleMode": 2, "seedRatioMode": 2}, {"seedIdleMode": 2, "seedRatioMode": 2}),
                 ({"seedIdleMode": 0, "seedRatioMode": 0}, {"seedIdleMode": 0, "seedRatioMode": 0}),
                 ({"seedIdleMode": 1, "seedIdleLimit": 90, "seedRatioMode": 1,
                   "seedRatioLimit": 3}, {"seedIdleLimit": 90, "seedIdleMode": 1,
                                          "seedRatioLimit": 3, "seedRatioMode": 1})]
        for body, expected in steps:
            got = []
            for client in (ours, theirs):
                reply = client.call("torrent-set", dict(body, ids=[swarm.info_hash]))
                self.assertEqual(reply["result"], "success", (body, reply))
                t = client.call("torrent-get", {"ids": [swarm.info_hash], "fields": fields})
                got.append(t["arguments"]["torrents"][0])
            mine, real = got
            H.log(f"torrent-set {body}: btd {mine}, transmission {real}")
            self.assert_same_shape(mine, real, f"torrent-get after {body}")
            self.assertEqual({k: real[k] for k in expected}, expected, "Transmission")
            self.assertEqual({k: mine[k] for k in expected}, expected, "btd")
        limits = btd.rpc("torrent.get", {"id": swarm.info_hash})["limits"]
        self.assertEqual((limits["seed_idle_limit"], limits["ratio_limit"]), (90 * 60, 3))
        # btd keeps no value it does not use: a value alone for a torrent on the session's
        # limit is refused (Transmission stores it unused), and nothing changes.
        ours.call("torrent-set", {"ids": [swarm.info_hash], "seedIdleMode": 0})
        refused = ours.call("torrent-set", {"ids": [swarm.info_hash], "seedIdleLimit": 10})
        self.assertIn("seedIdleLimit alone would not apply", refused["result"])
        self.assertIsNone(btd.rpc("torrent.get", {"id": swarm.info_hash})["limits"]
                          ["seed_idle_limit"])

    def test_queue_settings_position_and_location_replayed(self):
        """session-set of the queue keys, then session-get, give the same values and types in
        btd and in transmission-daemon; torrent-set queuePosition and location are accepted
        by both (transmission-daemon leaves location unread; btd looks for the data there)."""
        swarm = self.make_swarm(H.MIB + 7, "queue.bin")
        btd = self.make_daemon(swarm).start()
        ours = TransmissionClient(btd.address, btd.secret)
        theirs = self.start_transmission(swarm)
        with open(swarm.torrent, "rb") as f:
            metainfo = base64.b64encode(f.read()).decode()
        keys = {"download-queue-size": 3, "download-queue-enabled": True, "seed-queue-size": 4,
                "seed-queue-enabled": True, "queue-stalled-minutes": 12,
                "queue-stalled-enabled": True}
        elsewhere = os.path.join(swarm.dir, "elsewhere")
        os.makedirs(elsewhere)
        for client in (ours, theirs):
            self.assertEqual(client.call("session-set", keys)["result"], "success")
            got = client.call("session-get", {"fields": list(keys)})["arguments"]
            self.assertEqual({k: got[k] for k in keys}, keys)
            off = client.call("session-set", {"seed-queue-enabled": False,
                                              "queue-stalled-enabled": False})
            self.assertEqual(off["result"], "success")
            got = client.call("session-get", {"fields": list(keys)})["arguments"]
            self.assertEqual((got["seed-queue-enabled"], got["queue-stalled-enabled"]),
                             (False, False))
            added = client.call("torrent-add", {"metainfo": metainfo, "paused": True})
            self.assertEqual(added["result"], "success", added)
            moved = client.call("torrent-set", {"ids": [swarm.info_hash], "queuePosition": 0,
                                                "location": elsewhere})
            self.assertEqual(moved["result"], "success", moved)
        self.compare(ours, theirs, "session-get", {"fields": list(keys)})
        self.assertEqual(btd.rpc("session.get")["max_active_downloads"], 3)
        self.assertEqual(btd.rpc("session.get")["max_active_seeds"], -1)
        deadline = time.monotonic() + 20
        while True:
            t = ours.call("torrent-get", {"fields": ["downloadDir", "queuePosition"]})
            t = t["arguments"]["torrents"][0]
            if t["downloadDir"] == elsewhere or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual((t["downloadDir"], t["queuePosition"]), (elsewhere, 0))

    def settled(self, client, timeout=30):
        """The torrent once its check of the (absent) files is over: stopped."""
        deadline = time.monotonic() + timeout
        while True:
            t = client.call("torrent-get", {"fields": FIELDS})["arguments"]["torrents"][0]
            if t["status"] == 0 or time.monotonic() > deadline:
                return t
            time.sleep(0.2)

    def compare(self, ours, theirs, method, arguments):
        mine = ours.call(method, arguments, omit_arguments=arguments is None)
        real = theirs.call(method, arguments, omit_arguments=arguments is None)
        self.assertEqual(mine["result"], real["result"])
        self.assert_same_shape(mine["arguments"], real["arguments"], method)

    def assert_same_shape(self, mine, real, what):
        for key, value in mine.items():
            if key in NEW_IN_4_0:
                continue
            self.assertIn(key, real, f"{what}: btd sends {key}, Transmission does not")
            self.assertEqual(json_kind(value), json_kind(real[key]), f"{what}: {key}")
            if isinstance(value, dict):
                self.assert_same_shape(value, real[key], f"{what}.{key}")


# rpc-version 17 (Transmission 4.0) additions, which Debian's 3.00 daemon cannot show.
NEW_IN_4_0 = {"rpc-version-semver", "file-count", "percentComplete", "trackerList", "sitename"}

# Sonarr v4's TransmissionProxy.GetTorrentStatus field list (Radarr's is the same).
SONARR_FIELDS = ["id", "hashString", "name", "downloadDir", "totalSize", "leftUntilDone",
                 "isFinished", "eta", "status", "secondsDownloading", "secondsSeeding",
                 "errorString", "uploadedEver", "downloadedEver", "seedRatioLimit",
                 "seedRatioMode", "seedIdleLimit", "seedIdleMode", "fileCount"]
# Homepage's transmission widget (src/widgets/transmission/proxy.js).
HOMEPAGE_FIELDS = ["percentDone", "status", "rateDownload", "rateUpload"]
# Flood's (jesec/flood) torrent list: server/services/Transmission/clientGatewayService.ts,
# fetchTorrentList; its detail views ask for files+fileStats, peers, trackerStats, trackers.
FLOOD_FIELDS = ["hashString", "downloadDir", "name", "comment", "haveValid", "addedDate",
                "dateCreated", "doneDate", "rateDownload", "rateUpload", "downloadedEver",
                "uploadedEver", "eta", "isPrivate", "error", "errorString", "peersGettingFromUs",
                "peersSendingToUs", "status", "totalSize", "trackers", "labels", "activityDate"]
# Flood's getClientSettings (same file): session-get fields.
FLOOD_SESSION_FIELDS = ["dht-enabled", "peer-port", "download-dir", "peer-port-random-on-start",
                        "pex-enabled", "speed-limit-down", "speed-limit-down-enabled",
                        "speed-limit-up", "speed-limit-up-enabled", "peer-limit-global",
                        "peer-limit-per-torrent", "seed-queue-enabled", "seed-queue-size"]
# Homarr's download widget: @ctrl/transmission's listTorrents (src/transmission.ts).
HOMARR_FIELDS = ["id", "addedDate", "creator", "doneDate", "comment", "name", "totalSize",
                 "error", "errorString", "eta", "etaIdle", "isFinished", "isStalled",
                 "isPrivate", "files", "fileStats", "hashString", "leftUntilDone",
                 "metadataPercentComplete", "peers", "peersFrom", "peersConnected",
                 "peersGettingFromUs", "peersSendingToUs", "percentDone", "queuePosition",
                 "rateDownload", "rateUpload", "secondsDownloading", "secondsSeeding",
                 "recheckProgress", "seedRatioMode", "seedRatioLimit", "seedIdleLimit",
                 "sizeWhenDone", "status", "trackers", "downloadDir", "downloadLimit",
                 "downloadLimited", "uploadedEver", "downloadedEver", "corruptEver",
                 "uploadRatio", "webseedsSendingToUs", "haveUnchecked", "haveValid",
                 "honorsSessionLimits", "manualAnnounceTime", "activityDate",
                 "desiredAvailable", "labels", "magnetLink", "maxConnectedPeers", "peer-limit",
                 "priorities", "wanted", "webseeds"]
# Fields Transmission 3.00 answers that btd leaves out (rpc/README.md says why).
BTD_LACKS = set()

FIELDS = ["id", "hashString", "name", "status", "error", "errorString", "totalSize",
          "sizeWhenDone", "leftUntilDone", "percentDone", "recheckProgress", "haveValid",
          "haveUnchecked", "rateDownload", "rateUpload", "eta", "etaIdle", "downloadDir",
          "labels", "isFinished", "addedDate", "uploadedEver", "downloadedEver", "uploadRatio",
          "peersConnected", "peersSendingToUs", "peersGettingFromUs", "peer-limit", "files",
          "fileStats", "priorities", "wanted", "trackers", "trackerStats", "peers",
          "queuePosition", "seedRatioLimit", "seedRatioMode", "seedIdleLimit", "seedIdleMode",
          "honorsSessionLimits", "bandwidthPriority", "isPrivate", "comment", "creator",
          "dateCreated", "pieceCount", "pieceSize", "pieces", "magnetLink",
          "metadataPercentComplete", "webseeds", "webseedsSendingToUs"]


if __name__ == "__main__":
    unittest.main()
