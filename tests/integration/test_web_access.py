#!/usr/bin/python3
"""btd's browser and dashboard access, against a real daemon: login with an HttpOnly,
SameSite=Strict expiring session cookie; CSRF (Origin check and per-session token) and logout;
the bearer API unchanged; named tokens (read-only tokens refused with -32010 on every changing
call, revocation at once, only hashes on disk); /metrics parsed by prometheus_client's parser with
counters matching session.stats (disk queue and hashed bytes too: a download and a verify move the
hashed-bytes counters); /events with ids, Last-Event-ID resume and `btctl watch`.

Needs BTD_BIN and BTCTL_BIN (ctest sets both), python3-prometheus-client.
"""

import json
import os
import re
import stat
import subprocess
import threading
import time
import unittest

import harness as H
import web_common as W
from test_daemon_lifecycle import BtdDaemon

SIZE = 6 * H.MIB + 777
SEED_RATE = 2 * H.MIB


class WebAccess(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._tmp = H.TempDir(prefix="btd-web-")
        cls.dir = cls._tmp.__enter__()
        cls.src = os.path.join(cls.dir, "src")
        cls.state = os.path.join(cls.dir, "state")
        cls.dl = os.path.join(cls.dir, "dl")
        os.makedirs(cls.dl)
        H.make_payload(cls.src, H.layout_single(SIZE, "web.bin"), seed=5)
        _, info_hash = H.make_torrent(os.path.join(cls.src, "web.bin"), [],
                                      out_path=os.path.join(cls.dir, "probe.torrent"))
        cls.tracker = H.Tracker([info_hash]).__enter__()
        cls.torrent, cls.info_hash = H.make_torrent(
            os.path.join(cls.src, "web.bin"), [cls.tracker.http_url],
            out_path=os.path.join(cls.dir, "web.torrent"))
        cls.seeder = H.LtPeer(cls.torrent, cls.src, mode="seed", upload_limit=SEED_RATE).start()
        cls.seeder.wait_ready(60)
        # The DHT on (bootstrapping from a loopback port nobody answers), so that its series
        # exist; no LSD, whose multicast would leave loopback.
        cls.daemon = BtdDaemon(cls.state, cls.dl, discovery=True, extra_args=[
            "--no-lsd", "--dht-bootstrap", f"127.0.0.1:{H.free_port()}"]).start()
        cls.address = cls.daemon.address
        cls.secret = cls.daemon.secret

    @classmethod
    def tearDownClass(cls):
        H.kill_process(cls.daemon.proc)
        cls.seeder.stop()
        cls.tracker.__exit__(None, None, None)
        cls._tmp.__exit__(None, None, None)

    def origin(self):
        return f"http://{self.address}"

    def btctl(self, *args, expect_rc=0):
        res = H.run_btctl(list(args), state_dir=self.state)
        if expect_rc is not None:
            self.assertEqual(res.returncode, expect_rc, f"{args}: {res.stdout}{res.stderr}")
        return res

    def create_token(self, name, read_only):
        args = ["token", "create", name, "--json"] + (["--read-only"] if read_only else [])
        return json.loads(self.btctl(*args).stdout)["token"]

    # -- login, cookie, CSRF -------------------------------------------------------------------

    def test_page_is_served_with_a_strict_content_security_policy(self):
        status, headers, body = W.request(self.address, "GET", "/", {"Host": self.address})
        self.assertEqual(status, 200)
        self.assertIn(b"<title>btd</title>", body)
        self.assertIn("script-src 'self'", headers["content-security-policy"])
        self.assertNotIn("access-control-allow-origin", headers)
        for path in ("/app.js", "/app.css"):
            self.assertEqual(W.request(self.address, "GET", path)[0], 200, path)

    def test_login_sets_an_httponly_strict_expiring_cookie(self):
        status, headers, body = W.request(self.address, "POST", "/login", W.bearer(self.secret))
        self.assertEqual(status, 200, body)
        cookie = headers["set-cookie"]
        self.assertRegex(cookie, r"^btd_session=[0-9a-f]{64};")
        for attribute in ("HttpOnly", "SameSite=Strict", "Path=/"):
            self.assertIn(attribute, cookie)
        self.assertRegex(cookie, r"Max-Age=\d+")
        self.assertEqual(json.loads(body)["scope"], "admin")

    def test_wrong_token_is_refused_at_login(self):
        status, headers, _ = W.request(self.address, "POST", "/login", W.bearer("0" * 64))
        self.assertEqual(status, 401)
        self.assertNotIn("set-cookie", headers)

    def test_state_changing_cookie_requests_need_the_csrf_token_and_our_origin(self):
        cookie, csrf, _ = W.login(self.address, self.secret)
        good = {"Cookie": cookie, "X-CSRF-Token": csrf, "Origin": self.origin()}
        status, reply = W.rpc(self.address, "torrent.list", headers=good)
        self.assertEqual(status, 200)
        self.assertIn("result", reply)
        refused = {
            "no CSRF token": {"Cookie": cookie, "Origin": self.origin()},
            "wrong CSRF token": {"Cookie": cookie, "Origin": self.origin(), "X-CSRF-Token": "0" * 64},
            "no Origin": {"Cookie": cookie, "X-CSRF-Token": csrf},
            "foreign Origin": {"Cookie": cookie, "X-CSRF-Token": csrf,
                               "Origin": "http://evil.example"},
        }
        for what, headers in refused.items():
            status, reply = W.rpc(self.address, "torrent.pause", {"all": True}, headers)
            self.assertEqual(status, 403, what)
        # What a cross-site HTML form can send: the cookie (if the browser sent it at all),
        # a text/plain body and the foreign Origin; no custom header.
        status, _, _ = W.request(self.address, "POST", "/rpc", {
            "Cookie": cookie, "Origin": "http://evil.example",
            "Content-Type": "text/plain"}, b'{"jsonrpc":"2.0","id":1,"method":"daemon.shutdown"}')
        self.assertEqual(status, 403)
        self.assertIsNone(self.daemon.proc.poll())

    def test_logout_ends_the_session(self):
        cookie, csrf, _ = W.login(self.address, self.secret)
        self.assertEqual(W.request(self.address, "GET", "/session", {"Cookie": cookie})[0], 200)
        # Logout is state-changing too: a foreign page cannot log the user out.
        status, _, _ = W.request(self.address, "POST", "/logout", {"Cookie": cookie})
        self.assertEqual(status, 403)
        status, headers, _ = W.request(self.address, "POST", "/logout", {
            "Cookie": cookie, "X-CSRF-Token": csrf, "Origin": self.origin()})
        self.assertEqual(status, 200)
        self.assertIn("Max-Age=0", headers["set-cookie"])
        self.assertEqual(W.request(self.address, "GET", "/session", {"Cookie": cookie})[0], 401)
        status, _ = W.rpc(self.address, "torrent.list", headers={
            "Cookie": cookie, "X-CSRF-Token": csrf, "Origin": self.origin()})
        self.assertEqual(status, 401)

    def test_bearer_api_is_unchanged(self):
        status, reply = W.rpc(self.address, "session.stats", headers=W.bearer(self.secret))
        self.assertEqual(status, 200)
        self.assertIn("download_rate", reply["result"])
        status, _ = W.rpc(self.address, "session.stats")
        self.assertEqual(status, 401)
        status, _ = W.rpc(self.address, "session.stats", headers={
            **W.bearer(self.secret), "Origin": "http://evil.example"})
        self.assertEqual(status, 403)

    # -- scoped tokens -------------------------------------------------------------------------

    def test_read_only_token_can_look_but_not_change(self):
        token = self.create_token("dash", read_only=True)
        self.addCleanup(self.btctl, "token", "revoke", "dash", expect_rc=None)
        for method in ("torrent.list", "session.stats", "session.get", "daemon.version"):
            status, reply = W.rpc(self.address, method, headers=W.bearer(token))
            self.assertIn("result", reply, method)
        changing = [("torrent.pause", {"all": True}), ("torrent.resume", {"all": True}),
                    ("session.set", {"download_rate_limit": 1}),
                    ("torrent.add", {"uri": "http://127.0.0.1:1/x.torrent"}),
                    ("daemon.shutdown", {}), ("token.create", {"name": "x"}),
                    ("token.list", {})]
        for method, params in changing:
            status, reply = W.rpc(self.address, method, params, W.bearer(token))
            self.assertEqual(reply["error"]["code"], -32010, method)
        # A batch: the read call answers, the changing one is refused.
        body = json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "torrent.list"},
                           {"jsonrpc": "2.0", "id": 2, "method": "torrent.pause",
                            "params": {"all": True}}]).encode()
        _, _, data = W.request(self.address, "POST", "/rpc", {
            **W.bearer(token), "Content-Type": "application/json"}, body)
        replies = {r["id"]: r for r in json.loads(data)}
        self.assertIn("result", replies[1])
        self.assertEqual(replies[2]["error"]["code"], -32010)
        # The page with a read-only login is read-only too.
        cookie, csrf, scope = W.login(self.address, token)
        self.assertEqual(scope, "read-only")
        status, reply = W.rpc(self.address, "torrent.pause", {"all": True}, {
            "Cookie": cookie, "X-CSRF-Token": csrf, "Origin": self.origin()})
        self.assertEqual(reply["error"]["code"], -32010)
        # Watching and scraping are allowed; the Transmission endpoint takes only rpc.secret.
        self.assertEqual(W.request(self.address, "GET", "/metrics", W.bearer(token))[0], 200)
        sse = W.SseClient(self.address, W.bearer(token))
        self.addCleanup(sse.close)
        self.assertEqual(sse.read_head(), 200)
        status, _, _ = W.request(self.address, "POST", "/transmission/rpc", {
            **W.bearer(token), "Content-Type": "application/json"}, b"{}")
        self.assertEqual(status, 401)
        res = self.btctl("--token", token, "pause", "--all", expect_rc=1)
        self.assertIn("read-only", res.stderr)

    def test_full_token_changes_but_cannot_manage_tokens(self):
        token = self.create_token("automation", read_only=False)
        self.addCleanup(self.btctl, "token", "revoke", "automation", expect_rc=None)
        status, reply = W.rpc(self.address, "session.set", {"max_peers_per_torrent": 60},
                              W.bearer(token))
        self.assertIn("result", reply)
        status, reply = W.rpc(self.address, "token.create", {"name": "y"}, W.bearer(token))
        self.assertEqual(reply["error"]["code"], -32010)

    def test_revoked_token_stops_working_at_once(self):
        token = self.create_token("short-lived", read_only=True)
        cookie, csrf, _ = W.login(self.address, token)
        listed = json.loads(self.btctl("token", "list", "--json").stdout)
        self.assertIn({"name": "short-lived", "scope": "read-only"},
                      [{k: t[k] for k in ("name", "scope")} for t in listed])
        self.btctl("token", "revoke", "short-lived")
        self.assertEqual(W.rpc(self.address, "torrent.list", headers=W.bearer(token))[0], 401)
        self.assertEqual(W.request(self.address, "GET", "/session", {"Cookie": cookie})[0], 401)
        self.assertEqual(W.request(self.address, "GET", "/metrics", W.bearer(token))[0], 401)
        self.btctl("token", "revoke", "short-lived", expect_rc=2)

    def test_tokens_are_stored_hashed_and_private(self):
        token = self.create_token("stored", read_only=True)
        self.addCleanup(self.btctl, "token", "revoke", "stored", expect_rc=None)
        path = os.path.join(self.state, "tokens.json")
        with open(path) as f:
            content = f.read()
        self.assertNotIn(token, content)
        self.assertIn("stored", content)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.btctl("token", "create", "stored", expect_rc=2)  # taken name
        self.btctl("token", "create", "bad name", expect_rc=2)

    # -- metrics -------------------------------------------------------------------------------

    def scrape(self, headers):
        from prometheus_client.parser import text_string_to_metric_families
        status, response_headers, body = W.request(self.address, "GET", "/metrics", headers)
        self.assertEqual(status, 200, body)
        self.assertTrue(response_headers["content-type"].startswith("text/plain; version=0.0.4"))
        return {f.name: f for f in text_string_to_metric_families(body.decode())}

    def test_metrics_need_a_token_and_parse(self):
        self.assertEqual(W.request(self.address, "GET", "/metrics")[0], 401)
        W.rpc(self.address, "daemon.version", headers=W.bearer(self.secret))
        families = self.scrape(W.bearer(self.secret))
        for name in ("btd_download_rate_bytes", "btd_upload_rate_bytes", "btd_downloaded_bytes",
                     "btd_uploaded_bytes", "btd_peers", "btd_torrents", "btd_rpc_requests",
                     "btd_rpc_request_duration_seconds", "btd_event_clients",
                     "btd_torrent_progress", "btd_disk_jobs_waiting", "btd_disk_jobs_running",
                     "btd_hashed_bytes", "btd_dht_nodes", "btd_dht_lookups"):
            self.assertIn(name, families)
        dht = W.rpc(self.address, "session.stats",
                    headers=W.bearer(self.secret))[1]["result"]["dht"]
        self.assertTrue(dht["enabled"])
        self.assertEqual(families["btd_dht_nodes"].samples[0].value, dht["nodes"])
        states = {s.labels["state"] for s in families["btd_torrents"].samples}
        self.assertIn("downloading", states)
        calls = [s for s in families["btd_rpc_requests"].samples
                 if s.labels.get("method") == "daemon.version" and s.labels["outcome"] == "ok"]
        self.assertTrue(calls and calls[0].value >= 1)
        histogram = families["btd_rpc_request_duration_seconds"].samples
        self.assertTrue(any(s.name.endswith("_count") and s.value >= 1 for s in histogram))
        # The sample Grafana dashboard asks only for series btd exports.
        with open(os.path.join(H.REPO_ROOT, "docs", "grafana-dashboard.json")) as f:
            wanted = set(re.findall(r"\bbtd_[a-z_]+", f.read())) - {"btd_overview"}
        exported = set(families) | {s.name for f in families.values() for s in f.samples}
        self.assertEqual(wanted - exported, set())
        # ... and shows every session-wide family (per-torrent ones beyond progress and download
        # rate are left to the user's own panels).
        left_out = {"btd_torrent_upload_rate_bytes", "btd_torrent_peers",
                    "btd_torrent_series_omitted"}
        self.assertEqual({f for f in families if f.startswith("btd_")} - left_out
                         - {re.sub(r"_(total|bucket|count|sum)$", "", w) for w in wanted}, set())

    def hashed_bytes(self, families):
        """{kind: bytes} of btd_hashed_bytes_total."""
        return {s.labels["kind"]: s.value for s in families["btd_hashed_bytes"].samples
                if s.name == "btd_hashed_bytes_total"}

    def check_disk_metrics(self, families, stats, hashed_before):
        """After the download: every piece was hashed once (kind=download), the disk queue
        series exist for every kind and agree with session.stats; a verify then moves the
        check counter by the torrent's size."""
        hashed = self.hashed_bytes(families)
        self.assertEqual(hashed["download"], stats["disk"]["hashed_bytes"]["download"])
        self.assertGreaterEqual(hashed["download"] - hashed_before.get("download", 0), SIZE)
        waiting = {s.labels["kind"]: s.value for s in families["btd_disk_jobs_waiting"].samples}
        self.assertEqual(set(waiting), {"read", "write", "check", "other"})
        self.assertTrue(all(v >= 0 for v in waiting.values()), waiting)
        self.assertGreaterEqual(families["btd_disk_jobs_running"].samples[0].value, 0)
        self.daemon.rpc("torrent.verify", {"ids": [self.info_hash]})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            after = self.hashed_bytes(self.scrape(W.bearer(self.secret)))
            if after["check"] - hashed["check"] >= SIZE:
                break
            time.sleep(0.2)
        self.assertGreaterEqual(after["check"] - hashed["check"], SIZE,
                                "a verify of the whole torrent did not move the check counter")
        self.daemon.wait_state(self.info_hash, "seeding", 60)

    # -- events --------------------------------------------------------------------------------

    def test_download_events_resume_and_btctl_watch(self):
        watch = H.spawn([H.btctl_binary(), "--state-dir", self.state, "watch", "--json"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(H.kill_process, watch)
        watch_lines = []
        threading.Thread(target=lambda: watch_lines.extend(watch.stdout), daemon=True).start()
        sse = W.SseClient(self.address, W.bearer(self.secret))
        self.addCleanup(sse.close)
        self.assertEqual(sse.read_head(), 200)
        time.sleep(0.5)  # both are attached before the add
        hashed_before = self.hashed_bytes(self.scrape(W.bearer(self.secret)))
        added = self.daemon.add(self.torrent)
        self.assertEqual(added["id"], self.info_hash)
        first, _ = sse.wait_for(lambda e: e[1] == "torrent-added", 30)
        self.assertEqual(first[2]["id"], self.info_hash)
        self.assertIsNotNone(first[0])
        # Disconnect mid-download; whatever happens meanwhile is replayed on resume.
        sse.close()
        time.sleep(1.5)
        resumed = W.SseClient(self.address, {**W.bearer(self.secret),
                                             "Last-Event-ID": str(first[0])})
        self.addCleanup(resumed.close)
        done, seen = resumed.wait_for(lambda e: e[1] == "completed", H.LEECH_TIMEOUT)
        self.assertEqual(done[2]["id"], self.info_hash)
        ids = [e[0] for e in seen if e[0] is not None]
        self.assertEqual(ids, list(range(first[0] + 1, first[0] + 1 + len(ids))),
                         f"ids after Last-Event-ID {first[0]} must be consecutive: {seen}")
        stats = [e for e in seen if e[1] == "stats"]
        self.assertTrue(stats, "no stats event during the download")
        self.assertTrue(all(e[0] is None for e in stats))
        H.compare_trees(os.path.join(self.src, "web.bin"), os.path.join(self.dl, "web.bin"))
        # The scrape's counters are session.stats' numbers (nothing downloads any more).
        families = self.scrape(W.bearer(self.secret))
        stats = self.daemon.rpc("session.stats")
        self.assertGreaterEqual(stats["downloaded"], SIZE)
        self.assertEqual(families["btd_downloaded_bytes"].samples[0].value, stats["downloaded"])
        self.assertEqual(families["btd_uploaded_bytes"].samples[0].value, stats["uploaded"])
        seeding = [s for s in families["btd_torrents"].samples if s.labels["state"] == "seeding"]
        self.assertEqual(seeding[0].value, stats["by_state"].get("seeding", 0))
        progress = [s for s in families["btd_torrent_progress"].samples
                    if s.labels["info_hash"] == self.info_hash]
        self.assertEqual([s.value for s in progress], [1.0])
        self.assertEqual(progress[0].labels["name"], "web.bin")
        self.check_disk_metrics(families, stats, hashed_before)
        # btctl watch saw the same events, one JSON object per line.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any('"completed"' in l for l in watch_lines):
            time.sleep(0.2)
        events = [json.loads(l) for l in list(watch_lines)]
        kinds = [e["event"] for e in events]
        self.assertIn("torrent-added", kinds)
        self.assertIn("completed", kinds)
        # An id the history no longer covers gets a reset, not silence.
        stale = W.SseClient(self.address, {**W.bearer(self.secret),
                                           "Last-Event-ID": "999999999"})
        self.addCleanup(stale.close)
        event, _ = stale.wait_for(lambda e: True, 10)
        self.assertEqual(event[1], "reset")

    def test_events_need_a_token(self):
        sse = W.SseClient(self.address)
        self.addCleanup(sse.close)
        self.assertEqual(sse.read_head(), 401)
        cookie, _, _ = W.login(self.address, self.secret)
        sse = W.SseClient(self.address, {"Cookie": cookie})
        self.addCleanup(sse.close)
        self.assertEqual(sse.read_head(), 200)


class MetricsPublic(unittest.TestCase):
    def test_metrics_public_opens_metrics_only(self):
        with H.TempDir(prefix="btd-metrics-") as d:
            config = os.path.join(d, "btd.conf")
            with open(config, "w") as f:
                f.write("metrics_public = true\n")
            os.makedirs(os.path.join(d, "dl"))
            daemon = BtdDaemon(os.path.join(d, "state"), os.path.join(d, "dl"),
                               config=config).start()
            try:
                status, _, body = W.request(daemon.address, "GET", "/metrics")
                self.assertEqual(status, 200)
                self.assertIn(b"btd_torrents", body)
                self.assertEqual(W.rpc(daemon.address, "torrent.list")[0], 401)
            finally:
                H.kill_process(daemon.proc)


if __name__ == "__main__":
    unittest.main()
