#!/usr/bin/python3
"""btd as a daemon: JSON-RPC add, download from a libtorrent seeder, clean stop with state saved,
restart without re-hashing, corrupt resume data, removal, config errors, SIGHUP reload and
runtime settings that survive a restart (without touching the config file).

BtdDaemon is also used by test_daemon_crash.py.
"""

import base64
import json
import os
import signal
import socket
import subprocess
import time
import unittest
import urllib.error
import urllib.request

import harness as H


class BtdDaemon:
    """One btd daemon process with its own state dir; RPC via urllib."""

    def __init__(self, state_dir, download_dir, config=None, extra_args=(), env=None,
                 discovery=False):
        """discovery=False (the default) adds H.NO_DISCOVERY_FLAGS: no DHT or LSD unless a test
        asks for it (and then gives loopback bootstrap nodes in extra_args)."""
        self.state_dir, self.download_dir = state_dir, download_dir
        self.discovery = discovery
        self.env = env
        self.config, self.extra_args = config, list(extra_args)
        self.proc = None
        self.log_path = None
        self.runs = 0

    def command(self):
        args = [H.btd_binary(), "--state-dir", self.state_dir, "--download-dir",
                self.download_dir, "--rpc-listen", "127.0.0.1:0", "--listen-port",
                str(H.free_port()), "--log-level", "debug", "--foreground"]
        if self.config:
            args += ["--config", self.config]
        if not self.discovery:
            args += H.NO_DISCOVERY_FLAGS
        return args + self.extra_args

    def start(self, timeout=30):
        self.runs += 1
        address_file = os.path.join(self.state_dir, "rpc.address")
        if os.path.exists(address_file):
            os.unlink(address_file)  # stale from the previous run
        self.log_path = os.path.join(os.path.dirname(self.state_dir),
                                     f"btd-run{self.runs}.log")
        self._log = open(self.log_path, "wb")
        self.proc = H.spawn(self.command(), stdout=self._log, stderr=self._log,
                            stdin=subprocess.DEVNULL, env=self.env)
        deadline = time.monotonic() + timeout
        while not os.path.exists(address_file):
            if self.proc.poll() is not None:
                raise AssertionError(f"btd exited with {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"btd wrote no rpc.address in {timeout}s:\n{self.log()}")
            time.sleep(0.05)
        with open(address_file) as f:
            self.address = f.read().strip()
        with open(os.path.join(self.state_dir, "rpc.secret")) as f:
            self.secret = f.read().strip()
        H.log(f"btd run {self.runs} up, RPC at {self.address}")
        return self

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def rpc(self, method, params=None, timeout=10):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                           "params": params or {}}).encode()
        req = urllib.request.Request(
            f"http://{self.address}/rpc", data=body, method="POST",
            headers={"Content-Type": "application/json",
                     "Authorization": f"Bearer {self.secret}"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            reply = json.loads(resp.read())
        if "error" in reply:
            raise AssertionError(f"{method} failed: {reply['error']}")
        return reply["result"]

    def add(self, torrent_path, **params):
        with open(torrent_path, "rb") as f:
            params["metainfo"] = base64.b64encode(f.read()).decode()
        return self.rpc("torrent.add", params)

    def status(self, torrent_id):
        for t in self.rpc("torrent.list"):
            if t["id"] == torrent_id:
                return t
        raise AssertionError(f"torrent {torrent_id} is not listed")

    def wait_state(self, torrent_id, state, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.status(torrent_id)
            if last["state"] == state:
                return last
            if last["state"] == "error":
                raise AssertionError(f"torrent failed: {last['error']}\n{self.log()[-4000:]}")
            time.sleep(0.2)
        raise AssertionError(f"torrent not {state} after {timeout}s: {last}\n"
                             + self.log()[-4000:])

    def signal_and_wait(self, sig=signal.SIGTERM, timeout=5.0):
        """Returns (exit code, seconds until exit)."""
        start = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError(f"btd did not exit within {timeout}s of {sig!r}:\n"
                                 + self.log()[-4000:])
        self._log.close()
        return rc, time.monotonic() - start

    def kill9(self):
        self.proc.kill()
        self.proc.wait(timeout=10)
        self._log.close()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            H.kill_process(self.proc)
            self._log.close()


class DaemonTestCase(unittest.TestCase):
    def make_swarm(self, size, name, **seeder_args):
        swarm = H.Swarm(H.layout_single(size, name), name, tracker="http")
        swarm.__enter__()
        self.addCleanup(swarm.__exit__, None, None, None)
        swarm.add_seeder(**seeder_args)
        self.state_dir = os.path.join(swarm.dir, "state")
        return swarm

    def make_daemon(self, swarm, **kwargs):
        daemon = BtdDaemon(self.state_dir, swarm.dl_dir, **kwargs)
        self.addCleanup(daemon.stop)
        return daemon


class DaemonLifecycle(DaemonTestCase):
    def test_download_stop_restart_remove(self):
        size = 6 * H.MIB + 777
        sw = self.make_swarm(size, "lifecycle.bin")
        d = self.make_daemon(sw).start()
        secret = os.path.join(self.state_dir, "rpc.secret")
        self.assertEqual(os.stat(secret).st_mode & 0o777, 0o600)

        added = d.add(sw.torrent)
        tid = added["id"]
        self.assertEqual(tid, sw.info_hash)
        self.assertFalse(added["duplicate"])
        d.wait_state(tid, "seeding", H.LEECH_TIMEOUT)
        sw.check_download()

        rc, took = d.signal_and_wait(signal.SIGTERM, 5.0)
        self.assertEqual(rc, 0, d.log()[-3000:])
        H.log(f"btd stopped in {took:.2f}s")
        first_log = d.log()
        self.assertIn("state saved", first_log)

        # State on disk: the .torrent and complete resume data.
        torrent_file = os.path.join(self.state_dir, "torrents", tid + ".torrent")
        resume_file = os.path.join(self.state_dir, "resume", tid + ".json")
        with open(torrent_file, "rb") as f:
            stored = f.read()
        import libtorrent as lt
        self.assertEqual(str(lt.torrent_info(lt.bdecode(stored)).info_hash()), tid)
        with open(resume_file) as f:
            resume = json.load(f)
        pieces = (size + 256 * H.KIB - 1) // (256 * H.KIB)
        self.assertEqual(resume["have"], "1" * pieces)
        self.assertEqual(resume["download_dir"], os.path.abspath(sw.dl_dir))
        self.assertEqual([e for e in os.listdir(self.state_dir) if e.endswith(".tmp")], [])

        # Restart: the job comes back as seeding, without a hash check.
        d.start()
        st = d.wait_state(tid, "seeding", 20)
        self.assertEqual(st["progress"], 1)
        log = d.log()
        self.assertIn(f"restored lifecycle.bin: resume data for {pieces} of {pieces} pieces", log)
        self.assertNotIn("lifecycle.bin: now checking", log)
        self.assertIn("lifecycle.bin: now seeding", log)
        rc, _ = d.signal_and_wait()
        self.assertEqual(rc, 0)

        # Corrupt resume data: a warning, a full check, and still seeding; never a crash.
        with open(resume_file, "w") as f:
            f.write('{"version": 1, "have": "11')
        d.start()
        d.wait_state(tid, "seeding", 30)
        log = d.log()
        self.assertIn("is unusable", log)
        self.assertIn(f"lifecycle.bin: {pieces} of {pieces} pieces present", log)

        # Removal deletes the job's state files (not the data).
        d.rpc("torrent.remove", {"ids": [tid]})
        deadline = time.monotonic() + 10
        while (os.path.exists(torrent_file) or os.path.exists(resume_file)) \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertFalse(os.path.exists(torrent_file))
        self.assertFalse(os.path.exists(resume_file))
        sw.check_download()
        rc, _ = d.signal_and_wait()
        self.assertEqual(rc, 0)
        d.start()
        self.assertEqual(d.rpc("torrent.list"), [])
        self.assertEqual(d.signal_and_wait()[0], 0)


class DaemonConfig(unittest.TestCase):
    def setUp(self):
        self._tmp = H.TempDir()
        self.dir = self._tmp.__enter__()
        self.addCleanup(self._tmp.__exit__, None, None, None)
        self.state_dir = os.path.join(self.dir, "state")
        self.dl_dir = os.path.join(self.dir, "dl")
        self.config = os.path.join(self.dir, "btd.conf")

    def write_config(self, text):
        with open(self.config, "w") as f:
            f.write(text)

    def test_bad_config_exits_2_naming_the_line(self):
        self.write_config("# comment\nlog_level = info\nspeed = 11\n")
        res = subprocess.run([H.btd_binary(), "--config", self.config, "--state-dir",
                              self.state_dir], capture_output=True, text=True, timeout=20)
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertIn(f"{self.config}:3: unknown key 'speed'", res.stderr)
        res = subprocess.run([H.btd_binary(), "--listen-port", "99999"], capture_output=True,
                             text=True, timeout=20)
        self.assertEqual(res.returncode, 2)
        self.assertIn("--listen-port", res.stderr)

    def test_second_daemon_on_same_state_dir_refused(self):
        d = BtdDaemon(self.state_dir, self.dl_dir)
        self.addCleanup(d.stop)
        d.start()
        res = subprocess.run(BtdDaemon(self.state_dir, self.dl_dir).command(),
                             capture_output=True, text=True, timeout=20)
        self.assertEqual(res.returncode, 1)
        self.assertIn("another btd is already running", res.stderr)
        self.assertEqual(d.signal_and_wait(signal.SIGINT)[0], 0)

    def test_sighup_reload_and_runtime_settings(self):
        self.write_config("download_rate_limit = 0\nupload_rate_limit = 1k\n")
        d = BtdDaemon(self.state_dir, self.dl_dir, config=self.config)
        self.addCleanup(d.stop)
        d.start()
        self.assertEqual(d.rpc("session.get")["download_rate_limit"], 0)

        # Runtime change: kept in the state dir, never in the config file.
        d.rpc("session.set", {"max_peers_per_torrent": 33})
        self.write_config("download_rate_limit = 2m\nupload_rate_limit = 1k\n"
                          "rpc_auth = false\n")
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "configuration reloaded" not in d.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        log = d.log()
        self.assertIn("reload: download_rate_limit = 2097152 (was 0)", log)
        self.assertIn("reload: rpc_auth = false needs a restart", log)
        settings = d.rpc("session.get")  # still authenticated: rpc_auth needs a restart
        self.assertEqual(settings["download_rate_limit"], 2 * 1024 * 1024)
        self.assertEqual(settings["max_peers_per_torrent"], 33)
        self.assertEqual(d.signal_and_wait()[0], 0)

        with open(self.config) as f:
            self.assertNotIn("33", f.read())
        with open(os.path.join(self.state_dir, "settings.json")) as f:
            self.assertEqual(json.load(f), {"max_peers_per_torrent": 33})

        self.write_config("download_rate_limit = 2m\nupload_rate_limit = 1k\n")
        d.start()
        settings = d.rpc("session.get")
        self.assertEqual(settings["max_peers_per_torrent"], 33)
        self.assertEqual(settings["upload_rate_limit"], 1024)
        self.assertEqual(d.signal_and_wait()[0], 0)

    def test_sd_notify(self):
        sock_path = os.path.join(self.dir, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(sock_path)
        sock.settimeout(20)
        d = BtdDaemon(self.state_dir, self.dl_dir,
                      env=dict(os.environ, NOTIFY_SOCKET=sock_path))
        self.addCleanup(d.stop)
        d.start()

        def receive_until(prefix):
            seen = []
            while True:
                msg = sock.recv(4096).decode()
                seen.append(msg)
                if any(line.startswith(prefix) for line in msg.splitlines()):
                    return msg, seen

        receive_until("READY=1")
        status, _ = receive_until("STATUS=")
        self.assertIn("STATUS=0 torrents", status)
        self.assertEqual(d.signal_and_wait()[0], 0)
        receive_until("STOPPING=1")

    def test_bad_reload_keeps_running(self):
        self.write_config("log_level = info\n")
        d = BtdDaemon(self.state_dir, self.dl_dir, config=self.config)
        self.addCleanup(d.stop)
        d.start()
        self.write_config("log_level = chatty\n")
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reload failed" not in d.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertIn("reload failed", d.log())
        self.assertIn("version", d.rpc("daemon.version"))
        self.assertEqual(d.signal_and_wait()[0], 0)


if __name__ == "__main__":
    unittest.main()
