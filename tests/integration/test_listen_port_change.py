#!/usr/bin/python3
"""session.set listen_port over JSON-RPC: applied at once (the new port accepts, the old one
refuses), a port in use is refused with an error and changes nothing, SIGHUP keeps the port,
the tracker hears the new port (a libtorrent leecher finds btd through it and gets every byte),
and the port survives a restart (kept in settings.json, not in the config).
"""

import json
import os
import signal
import socket
import time
import unittest
import urllib.parse
import urllib.request

import harness as H
from test_daemon_lifecycle import BtdDaemon


def can_connect(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except ConnectionRefusedError:
        return False


def rpc_error(daemon, method, params):
    """The `error` member of a call expected to fail."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(
        f"http://{daemon.address}/rpc", data=body, method="POST",
        headers={"Content-Type": "application/json",
                 "Authorization": f"Bearer {daemon.secret}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        reply = json.loads(resp.read())
    if "error" not in reply:
        raise AssertionError(f"{method} {params} should have failed: {reply}")
    return reply["error"]


def tracker_peer_ports(tracker, info_hash):
    """Ports of the peers opentracker hands out for the torrent (compact HTTP announce)."""
    import libtorrent as lt

    def announce(event):
        query = {"peer_id": "-XX0000-portchecker0", "port": 1, "uploaded": 0,
                 "downloaded": 0, "left": 1, "compact": 1, "numwant": 50}
        if event:
            query["event"] = event
        url = (f"http://127.0.0.1:{tracker.port}/announce?info_hash="
               + urllib.parse.quote_from_bytes(bytes.fromhex(info_hash)) + "&"
               + urllib.parse.urlencode(query))
        with urllib.request.urlopen(url, timeout=5) as resp:
            return lt.bdecode(resp.read()) or {}

    peers = announce(None).get(b"peers", b"")
    announce("stopped")  # leave the swarm again (port 1 is nobody)
    return {int.from_bytes(peers[i + 4:i + 6], "big") for i in range(0, len(peers) - 5, 6)}


class ListenPortChange(unittest.TestCase):
    def test_port_change_live_persisted_and_announced(self):
        size = 3 * H.MIB + 321
        name = "portmove.bin"
        sw = H.Swarm(H.layout_single(size, name), name, tracker="http")
        sw.__enter__()
        self.addCleanup(sw.__exit__, None, None, None)
        state_dir = os.path.join(sw.dir, "state")
        d = BtdDaemon(state_dir, sw.dl_dir)
        self.addCleanup(d.stop)
        d.start()

        old = d.rpc("session.get")["listen_port"]
        self.assertEqual(d.rpc("session.stats")["listen_port"], old)
        self.assertTrue(can_connect(old))

        # Live change.
        new = H.free_port()
        started = time.monotonic()
        self.assertEqual(d.rpc("session.set", {"listen_port": new})["listen_port"], new)
        H.log(f"listen port {old} -> {new} in {time.monotonic() - started:.3f}s")
        self.assertEqual(d.rpc("session.get")["listen_port"], new)
        self.assertEqual(d.rpc("session.stats")["listen_port"], new)
        self.assertTrue(can_connect(new))
        self.assertFalse(can_connect(old), "the old port still accepts connections")

        # A port in use: an error naming the port, and nothing changes.
        with socket.socket() as blocker:
            blocker.bind(("127.0.0.1", 0))
            blocker.listen()
            busy = blocker.getsockname()[1]
            err = rpc_error(d, "session.set", {"listen_port": busy, "upload_rate_limit": 777})
            self.assertEqual(err["code"], -32602, err)
            self.assertIn(f"cannot listen on port {busy}", err["message"])
            self.assertIn("in use", err["message"])
        settings = d.rpc("session.get")
        self.assertEqual(settings["listen_port"], new)
        self.assertEqual(settings["upload_rate_limit"], 0)
        self.assertTrue(can_connect(new))

        # SIGHUP with an unchanged config keeps the port set over RPC.
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "configuration reloaded" not in d.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertIn("configuration reloaded", d.log())
        self.assertEqual(d.rpc("session.get")["listen_port"], new)
        self.assertTrue(can_connect(new))

        # btd seeds the payload; the tracker lists it under the new port, and a libtorrent
        # leecher that only learns about btd from the tracker downloads every byte.
        tid = d.add(sw.torrent, download_dir=sw.src_dir)["id"]
        d.wait_state(tid, "seeding", 60)
        H.wait_for_tracker_seeds(sw.tracker, sw.info_hash, 1)
        ports = tracker_peer_ports(sw.tracker, sw.info_hash)
        H.log(f"tracker lists ports {sorted(ports)}")
        self.assertIn(new, ports)
        self.assertNotIn(old, ports)
        started = time.monotonic()
        leecher = H.lt_leecher(sw.torrent, sw.dl_dir)
        try:
            leecher.wait_for_line("DONE", H.LEECH_TIMEOUT)
        finally:
            leecher.stop()
        sw.check_download()
        H.assert_all_from_btd(leecher, size)
        H.log(f"leecher got all {size} bytes from btd in {time.monotonic() - started:.2f}s")

        # Restart: the port comes back from settings.json (BtdDaemon passes a different
        # --listen-port on every start; the runtime value wins over it, as for other keys).
        rc, _ = d.signal_and_wait()
        self.assertEqual(rc, 0, d.log()[-3000:])
        self.assertFalse(can_connect(new))
        with open(os.path.join(state_dir, "settings.json")) as f:
            self.assertEqual(json.load(f), {"listen_port": new})
        d.start()
        self.assertEqual(d.rpc("session.get")["listen_port"], new)
        self.assertEqual(d.rpc("session.stats")["listen_port"], new)
        self.assertTrue(can_connect(new))
        d.wait_state(tid, "seeding", 30)
        self.assertEqual(d.signal_and_wait()[0], 0)


class ConfigPortDaemon(BtdDaemon):
    """Takes its peer port from the config file (no --listen-port flag, which would win)."""

    def command(self):
        args = super().command()
        i = args.index("--listen-port")
        return args[:i] + args[i + 2:]


class ListenPortReload(unittest.TestCase):
    def setUp(self):
        tmp = H.TempDir()
        self.dir = tmp.__enter__()
        self.addCleanup(tmp.__exit__, None, None, None)
        self.state_dir = os.path.join(self.dir, "state")
        self.config = os.path.join(self.dir, "btd.conf")

    def write_port(self, port):
        with open(self.config, "w") as f:
            f.write(f"listen_port = {port}\n")

    def reload(self, d):
        before = d.log().count("configuration reloaded")
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while d.log().count("configuration reloaded") == before and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertGreater(d.log().count("configuration reloaded"), before, d.log()[-3000:])

    def stored(self):
        path = os.path.join(self.state_dir, "settings.json")
        if not os.path.exists(path):
            return {}
        with open(path) as f:
            return json.load(f)

    def test_reload_and_restart_precedence(self):
        p1, p2, p3 = H.free_port(), H.free_port(), H.free_port()
        self.write_port(p1)
        d = ConfigPortDaemon(self.state_dir, os.path.join(self.dir, "dl"), config=self.config)
        self.addCleanup(d.stop)
        d.start()
        self.assertEqual(d.rpc("session.get")["listen_port"], p1)

        d.rpc("session.set", {"listen_port": p2})
        self.reload(d)  # the config did not change: the RPC port stays
        self.assertEqual(d.rpc("session.get")["listen_port"], p2)
        self.assertTrue(can_connect(p2))

        self.write_port(p3)  # the config changed the key: its new value wins, at once
        self.reload(d)
        self.assertIn(f"reload: listen_port = {p3} (was {p1})", d.log())
        self.assertEqual(d.rpc("session.stats")["listen_port"], p3)
        self.assertTrue(can_connect(p3))
        self.assertFalse(can_connect(p2))
        deadline = time.monotonic() + 5
        while "listen_port" in self.stored() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.stored(), {})

        with socket.socket() as blocker:  # a config port in use: logged, the old one kept
            blocker.bind(("127.0.0.1", 0))
            blocker.listen()
            busy = blocker.getsockname()[1]
            self.write_port(busy)
            self.reload(d)
            self.assertIn(f"reload: cannot listen on port {busy}", d.log())
            self.assertEqual(d.rpc("session.get")["listen_port"], p3)
            self.assertTrue(can_connect(p3))
        self.write_port(p1)
        self.reload(d)
        self.assertEqual(d.rpc("session.get")["listen_port"], p1)

        # A stored port taken by someone else at the next start: the config's port is used.
        p4 = H.free_port()
        d.rpc("session.set", {"listen_port": p4})
        self.assertEqual(d.signal_and_wait()[0], 0)
        self.assertEqual(self.stored(), {"listen_port": p4})
        with socket.socket() as blocker:
            blocker.bind(("127.0.0.1", p4))
            blocker.listen()
            d.start()
            self.assertEqual(d.rpc("session.get")["listen_port"], p1)
            self.assertIn(f"cannot listen on port {p4}", d.log())
        self.assertEqual(d.signal_and_wait()[0], 0)
        self.assertEqual(self.stored(), {})


if __name__ == "__main__":
    unittest.main()
