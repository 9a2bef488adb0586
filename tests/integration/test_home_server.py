#!/usr/bin/python3
"""btd on a home server (issue 12, daemon side): rpc_username/rpc_password Basic auth on
/transmission/rpc (raw HTTP and transmission-remote --auth), the done date and session totals
kept across a restart (torrent.get done_at, Transmission doneDate, session-stats
cumulative-stats, free-space, session.stats), the watch dir (good, bad, half-written and
.magnet files), the completion hook (a torrent named `$(touch pwned); "quoted"` reaches the
program as data only; output logged; killed at its timeout) with the webhook retried against a
python http.server, the webhook over https (trusted through webhook_ca_file; an untrusted
certificate refused at once, logged, not retried), and the LAN listen log and the 403 that names rpc_allowed_hosts.
"""

import base64
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import unittest

import harness as H
from test_daemon_lifecycle import BtdDaemon, DaemonTestCase

REMOTE = shutil.which("transmission-remote")


def wait_for(what, check, timeout, log=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} not within {timeout}s\n{log()[-4000:]}")


def pid_alive(pid):
    """True while `pid` runs (a zombie, reaped by nobody yet, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class TransmissionCall:
    """One raw /transmission/rpc client with the 409 dance and an Authorization header."""

    def __init__(self, address, authorization=None):
        self.address, self.authorization, self.session_id = address, authorization, ""

    def raw(self, body, method="POST"):
        host, port = self.address.rsplit(":", 1)
        headers = {"X-Transmission-Session-Id": self.session_id}
        if self.authorization:
            headers["Authorization"] = self.authorization
        conn = http.client.HTTPConnection(host, int(port), timeout=20)
        try:
            conn.request(method, "/transmission/rpc", body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def call(self, method, arguments=None):
        body = json.dumps({"method": method, "arguments": arguments or {}})
        for _ in range(2):
            status, headers, data = self.raw(body)
            if status != 409:
                break
            self.session_id = headers["X-Transmission-Session-Id"]
        assert status == 200, (status, data)
        return json.loads(data)


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class LanDaemon(BtdDaemon):
    """btd listening for RPC on every interface."""

    def __init__(self, state_dir, download_dir, listen, **kwargs):
        super().__init__(state_dir, download_dir, **kwargs)
        self.listen = listen

    def command(self):
        args = super().command()
        args[args.index("127.0.0.1:0")] = self.listen
        return args


class HomeServer(DaemonTestCase):
    def config(self, text):
        path = os.path.join(os.path.dirname(self.state_dir), "btd.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def btctl(self, daemon, *args):
        res = subprocess.run([H.btctl_binary(), "--state-dir", daemon.state_dir, *args],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        return res.stdout

    def test_rpc_username_and_password(self):
        sw = self.make_swarm(H.MIB + 5, "auth.bin")
        conf = self.config('rpc_username = "sonarr"\nrpc_password = "p4ss:w o#rd"\n')
        d = self.make_daemon(sw, config=conf).start()
        self.assertNotIn("p4ss", d.log())  # never logged
        body = json.dumps({"method": "session-get", "arguments": {"fields": ["version"]}})
        status, headers, _ = TransmissionCall(d.address).raw(body)
        self.assertEqual(status, 401)
        self.assertEqual(headers.get("WWW-Authenticate"), 'Basic realm="btd"')
        for wrong in (basic("radarr", "p4ss:w o#rd"), basic("sonarr", "p4ss"),
                      basic("sonarr", d.secret[:-1])):
            self.assertEqual(TransmissionCall(d.address, wrong).raw(body)[0], 401, wrong)
        right = TransmissionCall(d.address, basic("sonarr", "p4ss:w o#rd"))
        self.assertEqual(right.raw(body)[0], 409)
        self.assertEqual(right.call("session-get")["result"], "success")
        # The secret keeps working beside the pair.
        self.assertEqual(TransmissionCall(d.address, basic("x", d.secret))
                         .call("session-get")["result"], "success")
        if REMOTE:
            ok = subprocess.run([REMOTE, d.address, "--auth", "sonarr:p4ss:w o#rd", "-l"],
                                capture_output=True, text=True, timeout=60)
            self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
            self.assertIn("Sum:", ok.stdout)
            bad = subprocess.run([REMOTE, d.address, "--auth", "sonarr:nope", "-l"],
                                 capture_output=True, text=True, timeout=60)
            self.assertIn("authentication required", bad.stdout + bad.stderr)

    def test_done_date_and_totals_survive_a_restart(self):
        size = 2 * H.MIB + 77
        sw = self.make_swarm(size, "done.bin")
        d = self.make_daemon(sw).start()
        tid = d.add(sw.torrent)["id"]
        before = int(time.time())
        d.wait_state(tid, "seeding", H.LEECH_TIMEOUT)
        sw.check_download()
        done_at = d.rpc("torrent.get", {"id": tid})["done_at"]
        self.assertGreaterEqual(done_at, before - 1)
        self.assertLessEqual(done_at, int(time.time()) + 1)
        tr = TransmissionCall(d.address, basic("btd", d.secret))
        t = tr.call("torrent-get", {"ids": [tid], "fields": ["doneDate", "addedDate"]})
        self.assertEqual(t["arguments"]["torrents"][0]["doneDate"], done_at)
        self.assertIn("Done:", self.btctl(d, "info", tid))
        stats = d.rpc("session.stats")
        self.assertGreaterEqual(stats["current"]["downloaded"], size)
        self.assertEqual(stats["cumulative"]["session_count"], 1)
        self.assertEqual(stats["cumulative"]["torrents_added"], 1)
        self.assertGreater(stats["download_dir_free"], 0)
        free = tr.call("free-space", {"path": sw.dl_dir})
        self.assertEqual(free["result"], "success")
        self.assertGreater(free["arguments"]["size-bytes"], 0)
        missing = tr.call("free-space", {"path": os.path.join(sw.dl_dir, "nope")})
        self.assertIn("cannot measure", missing["result"])
        self.assertEqual(d.signal_and_wait()[0], 0)
        with open(os.path.join(self.state_dir, "session_totals.json")) as f:
            saved = json.load(f)
        self.assertGreaterEqual(saved["downloaded-bytes"], size)
        self.assertEqual(saved["session-count"], 1)

        d.start()
        d.wait_state(tid, "seeding", 30)
        self.assertEqual(d.rpc("torrent.get", {"id": tid})["done_at"], done_at)  # kept
        tr = TransmissionCall(d.address, basic("btd", d.secret))
        st = tr.call("session-stats")["arguments"]
        self.assertEqual(st["cumulative-stats"]["sessionCount"], 2)
        self.assertGreaterEqual(st["cumulative-stats"]["downloadedBytes"], size)
        self.assertEqual(st["cumulative-stats"]["filesAdded"], 1)
        self.assertEqual(st["current-stats"]["downloadedBytes"], 0)  # nothing moved this run
        self.assertEqual(st["current-stats"]["sessionCount"], 1)
        # Removing the torrent keeps what it moved in the totals.
        d.rpc("torrent.remove", {"ids": [tid]})
        self.assertGreaterEqual(
            d.rpc("session.stats")["cumulative"]["downloaded"], size)

    def test_watch_dir(self):
        sw = self.make_swarm(H.MIB + 3, "watched.bin")
        watch = os.path.join(sw.dir, "watch")
        os.makedirs(watch)
        d = self.make_daemon(sw, extra_args=["--watch-dir", watch]).start()
        with open(sw.torrent, "rb") as f:
            good = f.read()
        # Half-written: a slow copy, 12 chunks 0.3 s apart (two scans at least), then the rest.
        half = os.path.join(watch, "slow.torrent")
        chunk = len(good) // 24
        with open(half, "wb") as f:
            for i in range(12):
                f.write(good[i * chunk:(i + 1) * chunk])
                f.flush()
                time.sleep(0.3)
                self.assertEqual(sorted(os.listdir(watch)), ["slow.torrent"], "taken too early")
            f.write(good[12 * chunk:])
        # Bad files; a hidden one is not taken.
        with open(os.path.join(watch, "junk.torrent"), "wb") as f:
            f.write(b"this is no torrent")
        with open(os.path.join(watch, ".partial.torrent"), "wb") as f:
            f.write(b"d4:infoe")
        with open(os.path.join(watch, "x.magnet"), "w") as f:
            f.write("magnet:?xt=urn:btih:" + "ab" * 20 + "&dn=x\n")
        wait_for("slow.torrent.added", lambda: os.path.exists(half + ".added"), 30, d.log)
        self.assertFalse(os.path.exists(half))
        d.wait_state(sw.info_hash, "seeding", H.LEECH_TIMEOUT)
        sw.check_download()
        junk = os.path.join(watch, "junk.torrent")
        wait_for("junk.torrent.invalid", lambda: os.path.exists(junk + ".invalid"), 30, d.log)
        self.assertIn("junk.torrent is not usable: not a valid .torrent file", d.log())
        self.assertTrue(os.path.exists(os.path.join(watch, ".partial.torrent")))
        magnet = os.path.join(watch, "x.magnet")
        taken = wait_for("x.magnet taken", lambda: [n for n in os.listdir(watch)
                                                     if n.startswith("x.magnet.")], 30, d.log)
        if taken == ["x.magnet.invalid"]:  # until btd adds magnets: torrent.add's error
            self.assertIn("x.magnet is not usable: magnet links are not supported", d.log())
        else:
            self.assertEqual(taken, ["x.magnet.added"])
            self.assertIn("ab" * 20, [t["id"] for t in d.rpc("torrent.list")])
        self.assertFalse(os.path.exists(magnet))
        # Dropping the same torrent again: already there, still renamed .added.
        again = os.path.join(watch, "again.torrent")
        with open(again, "wb") as f:
            f.write(good)
        wait_for("again.torrent.added", lambda: os.path.exists(again + ".added"), 30, d.log)
        self.assertIn("watch dir: already have watched.bin", d.log())

    def test_completion_hook_and_webhook(self):
        name = '$(touch pwned); "quoted"'
        sw = self.make_swarm(H.MIB + 11, name)
        work = os.path.join(sw.dir, "cwd")
        os.makedirs(work)
        old_cwd = os.getcwd()
        os.chdir(work)  # btd's cwd: a shell would create ./pwned here
        self.addCleanup(os.chdir, old_cwd)
        env_file = os.path.join(sw.dir, "hook-env")
        hook = os.path.join(sw.dir, "hook.sh")
        with open(hook, "w") as f:
            f.write("#!/bin/sh\n"
                    f"printf '%s\\n%s\\n%s\\n%s\\n' \"$BTD_TORRENT_ID\" \"$BTD_TORRENT_NAME\" "
                    f"\"$BTD_DOWNLOAD_DIR\" \"$BTD_LABELS\" > '{env_file}'\n"
                    "echo hook says hello\n"
                    "echo hook complains >&2\n"
                    "exec sleep 60\n")
        os.chmod(hook, 0o755)
        hits = []

        class Webhook(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hits.append((self.headers.get("Content-Type"), body))
                self.send_response(500 if len(hits) == 1 else 200)  # the first one fails
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Webhook)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        conf = self.config(f'on_complete = "{hook}"\non_complete_timeout = 3\n'
                           f'on_complete_url = "{url}"\n')
        d = self.make_daemon(sw, config=conf).start()
        tid = d.add(sw.torrent, labels=["tv", "hd"])["id"]
        d.wait_state(tid, "seeding", H.LEECH_TIMEOUT)
        sw.check_download()
        wait_for("hook environment", lambda: os.path.exists(env_file)
                 and open(env_file).read().count("\n") == 4, 30, d.log)
        with open(env_file) as f:
            got = f.read().split("\n")
        self.assertEqual(got[:4], [tid, name, os.path.abspath(sw.dl_dir), "tv,hd"])
        self.assertEqual(os.listdir(work), [], "the name was run as a command")
        wait_for("hook killed", lambda: "still running after 3 s: killed" in d.log(), 30, d.log)
        # Its exit is logged when the child is reaped, a moment after the kill (later under ASan).
        wait_for("hook reaped", lambda: "killed by signal 9" in d.log(), 30, d.log)
        log = d.log()
        self.assertIn("hook says hello", log)
        self.assertIn("hook complains", log)
        self.assertIn("killed by signal 9", log)
        wait_for("webhook retried", lambda: len(hits) >= 2, 30, d.log)
        content_type, body = hits[1]
        self.assertEqual(content_type, "application/json")
        summary = json.loads(body)
        self.assertEqual(summary["id"], tid)
        self.assertEqual(summary["name"], name)
        self.assertEqual(summary["state"], "seeding")
        self.assertIn("failed (HTTP status 500)", log)
        self.assertTrue(wait_for("delivered", lambda: "delivered to" in d.log(), 10, d.log))
        # A restart finds the data complete: no second run of the hook.
        self.assertEqual(d.signal_and_wait()[0], 0)
        os.unlink(env_file)
        d.start()
        d.wait_state(tid, "seeding", 30)
        time.sleep(2)
        self.assertFalse(os.path.exists(env_file))
        self.assertEqual(len(hits), 2)

    def https_webhook(self, folder):
        """A local https server (self-signed certificate for 127.0.0.1, made here): its URL,
        the certificate's path, the POSTs it got and the TLS connections it was offered."""
        cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
        hits, offered = [], []

        class Webhook(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hits.append((self.headers.get("Content-Type"), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(http.server.HTTPServer):
            def get_request(self):  # the TLS handshake runs in accept()
                offered.append(time.monotonic())
                return super().get_request()

        server = Server(("127.0.0.1", 0), Webhook)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert, key)
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return f"https://127.0.0.1:{server.server_address[1]}/hook", cert, hits, offered

    def test_webhook_over_https_trusts_webhook_ca_file(self):
        sw = self.make_swarm(H.MIB + 21, "https-hook.bin")
        url, cert, hits, _ = self.https_webhook(sw.dir)
        conf = self.config(f'on_complete_url = "{url}"\nwebhook_ca_file = "{cert}"\n')
        d = self.make_daemon(sw, config=conf).start()
        tid = d.add(sw.torrent)["id"]
        d.wait_state(tid, "seeding", H.LEECH_TIMEOUT)
        sw.check_download()
        wait_for("https webhook delivered", lambda: hits, 30, d.log)
        content_type, body = hits[0]
        self.assertEqual(content_type, "application/json")
        summary = json.loads(body)
        self.assertEqual((summary["id"], summary["name"], summary["state"]),
                         (tid, "https-hook.bin", "seeding"))
        wait_for("delivery logged", lambda: "delivered to " + url in d.log(), 10, d.log)

    def test_webhook_over_https_refuses_an_untrusted_certificate(self):
        sw = self.make_swarm(H.MIB + 22, "untrusted-hook.bin")
        url, _, hits, offered = self.https_webhook(sw.dir)
        conf = self.config(f'on_complete_url = "{url}"\n')  # no webhook_ca_file
        d = self.make_daemon(sw, config=conf).start()
        tid = d.add(sw.torrent)["id"]
        d.wait_state(tid, "seeding", H.LEECH_TIMEOUT)
        sw.check_download()
        wait_for("refusal logged", lambda: "certificate is not trusted" in d.log(), 30, d.log)
        time.sleep(5)  # a retry would come after 2 s
        self.assertEqual(hits, [])
        self.assertEqual(len(offered), 1, "a certificate refusal is not retried")
        log = d.log()
        self.assertIn("not delivered to " + url, log)
        self.assertIn("webhook_ca_file", log)
        self.assertNotIn("again in", log)
        self.assertEqual(d.rpc("torrent.get", {"id": tid})["state"], "seeding")  # btd runs on
        self.assertEqual(d.signal_and_wait()[0], 0)

    def test_unreadable_webhook_ca_file_stops_btd_with_the_reason(self):
        sw = self.make_swarm(H.MIB + 23, "bad-ca.bin")
        bad = os.path.join(sw.dir, "not-a-cert.pem")
        with open(bad, "w") as f:
            f.write("not a certificate\n")
        conf = self.config('on_complete_url = "https://127.0.0.1:9/hook"\n'
                           f'webhook_ca_file = "{bad}"\n')
        d = self.make_daemon(sw, config=conf)
        with self.assertRaises(AssertionError):
            d.start(timeout=20)
        d._log.close()
        wait_for("reason logged", lambda: f"webhook_ca_file {bad}: cannot load" in d.log(), 20,
                 d.log)

    def test_hook_still_running_at_exit_is_stopped(self):
        """A hook running when btd exits gets SIGTERM (a program that ignores it, SIGKILL after
        a short grace); both are logged, btd still exits 0 within a few seconds, and no
        process of the hook is left."""
        sw = self.make_swarm(H.MIB + 3, "exit-hook.bin")
        pid_file = os.path.join(sw.dir, "hook-pids")
        hook = os.path.join(sw.dir, "hook.sh")
        with open(hook, "w") as f:
            # Ignores SIGTERM (and so does its sleep, which inherits that), so only SIGKILL
            # ends it; writes its pid and its child's.
            f.write("#!/bin/sh\ntrap '' TERM\nsleep 120 &\n"
                    f"echo $$ $! > '{pid_file}'\nwait\n")
        os.chmod(hook, 0o755)
        conf = self.config(f'on_complete = "{hook}"\non_complete_timeout = 600\n')
        d = self.make_daemon(sw, config=conf).start()
        tid = d.add(sw.torrent)["id"]
        d.wait_state(tid, "seeding", H.LEECH_TIMEOUT)
        sw.check_download()
        wait_for("hook pids", lambda: os.path.exists(pid_file)
                 and len(open(pid_file).read().split()) == 2, 30, d.log)
        pids = [int(p) for p in open(pid_file).read().split()]
        rc, took = d.signal_and_wait(timeout=10)
        self.assertEqual(rc, 0)
        H.log(f"btd exited in {took:.1f}s with the hook running")
        self.assertLess(took, 8)
        log = d.log()
        self.assertIn("still running as btd exits: SIGTERM", log)
        self.assertIn("ms after SIGTERM: SIGKILL", log)
        for pid in pids:
            wait_for(f"pid {pid} gone", lambda pid=pid: not pid_alive(pid), 5, d.log)

        # A hook that ends on SIGTERM is reaped and logged as ended, no SIGKILL needed.
        with open(hook, "w") as f:
            f.write(f"#!/bin/sh\necho $$ > '{pid_file}'\nexec sleep 120\n")
        os.unlink(pid_file)
        d.start()
        d.rpc("torrent.remove", {"ids": [tid], "delete_data": True})
        tid = d.add(sw.torrent)["id"]
        d.wait_state(tid, "seeding", H.LEECH_TIMEOUT)
        wait_for("hook pid", lambda: os.path.exists(pid_file)
                 and open(pid_file).read().strip(), 30, d.log)
        pid = int(open(pid_file).read())
        rc, took = d.signal_and_wait(timeout=10)
        self.assertEqual(rc, 0)
        log = d.log()
        self.assertIn("still running as btd exits: SIGTERM", log)
        self.assertIn("ended as btd exits", log)
        self.assertNotIn("SIGKILL", log)
        self.assertFalse(pid_alive(pid))

    def test_lan_listen_is_logged_and_foreign_hosts_are_told_the_setting(self):
        sw = self.make_swarm(1000, "lan.bin")
        port = H.free_port()
        d = LanDaemon(self.state_dir, sw.dl_dir, f"0.0.0.0:{port}")
        self.addCleanup(d.stop)
        d.start()
        log = d.log()
        self.assertIn(f"RPC listening on 0.0.0.0:{port} (every interface", log)
        self.assertIn("rpc_allowed_hosts", log)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/rpc", body="{}", headers={"Host": f"nas.lan:{port}"})
        resp = conn.getresponse()
        text = resp.read().decode()
        conn.close()
        self.assertEqual(resp.status, 403)
        self.assertIn("'nas.lan'", text)
        self.assertIn("rpc_allowed_hosts", text)
        self.assertEqual(d.signal_and_wait()[0], 0)
        d.extra_args += ["--rpc-allowed-hosts", "nas.lan,box"]
        d.start()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/rpc", body="{}", headers={"Host": f"nas.lan:{port}",
                                                         "Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        conn.close()
        self.assertEqual(resp.status, 401)  # past the Host check: now it wants the secret


if __name__ == "__main__":
    unittest.main()
