#!/usr/bin/python3
"""bind_interface / --bind (issue 12 item 2, for VPN users): with --bind 127.0.0.2, btd's
outgoing peer connections come from 127.0.0.2 (seen by a python listener that opentracker hands
out as a peer), its listen socket is on 127.0.0.2 only, and a download from a libtorrent seeder
still completes (every byte compared). --bind lo (an interface, SO_BINDTODEVICE) downloads too;
an interface that does not exist stops btd at start with a message naming it."""

import os
import socket
import subprocess
import threading
import time
import unittest
import urllib.parse
import urllib.request

import harness as H
from test_daemon_lifecycle import BtdDaemon


class FakePeer:
    """Accepts TCP connections on 127.0.0.1 and records where they come from."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.sources = []
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                conn, addr = self.sock.accept()
            except OSError:
                continue
            self.sources.append(addr[0])
            conn.close()

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()


def announce(tracker, info_hash, port):
    """Registers 127.0.0.1:port as a seeder of info_hash at opentracker."""
    query = urllib.parse.urlencode({
        "info_hash": bytes.fromhex(info_hash), "peer_id": b"-PY0001-fakepeer0001",
        "port": port, "uploaded": 0, "downloaded": 0, "left": 0, "compact": 1,
        "event": "started"})
    with urllib.request.urlopen(f"{tracker.http_url}?{query}", timeout=10) as resp:
        resp.read()


class BindInterface(unittest.TestCase):
    def setUp(self):
        tmp = H.TempDir("btd-bind-")
        self.root = tmp.__enter__()
        self.addCleanup(tmp.__exit__, None, None, None)
        self.content = os.path.join(self.root, "src", "bound.bin")
        H.make_payload(os.path.dirname(self.content), [("bound.bin", 2 * H.MIB + 99)])
        _, info_hash = H.make_torrent(self.content, [], 64 * H.KIB,
                                      os.path.join(self.root, "probe.torrent"))
        self.tracker = H.Tracker([info_hash]).__enter__()
        self.addCleanup(self.tracker.__exit__, None, None, None)
        self.torrent, self.info_hash = H.make_torrent(
            self.content, [self.tracker.http_url], 64 * H.KIB,
            os.path.join(self.root, "t.torrent"))

    def daemon(self, bind, run=1):
        btd = BtdDaemon(os.path.join(self.root, f"state{run}"),
                        os.path.join(self.root, f"dl{run}"), extra_args=["--bind", bind])
        btd.start()
        self.addCleanup(btd.stop)
        return btd

    def download(self, btd):
        seeder = H.LtPeer(self.torrent, os.path.dirname(self.content)).start()
        self.addCleanup(seeder.stop)
        seeder.wait_ready(60)
        btd.add(self.torrent)
        btd.wait_state(self.info_hash, "seeding", H.LEECH_TIMEOUT)
        H.compare_trees(self.content, os.path.join(btd.download_dir, "bound.bin"))

    def test_connections_come_from_the_bound_address(self):
        fake = FakePeer()
        self.addCleanup(fake.close)
        announce(self.tracker, self.info_hash, fake.port)
        btd = self.daemon("127.0.0.2")
        btd.add(self.torrent)
        deadline = time.monotonic() + 30
        while not fake.sources and time.monotonic() < deadline:
            time.sleep(0.1)
        H.log(f"connections came from {fake.sources}")
        self.assertTrue(fake.sources, "btd never dialled the announced peer\n" + btd.log()[-3000:])
        self.assertEqual(set(fake.sources), {"127.0.0.2"})
        self.assertIn("listening for peers", btd.log())
        listen_port = btd.rpc("session.stats")["listen_port"]
        with socket.create_connection(("127.0.0.2", listen_port), timeout=5):
            pass
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", listen_port), timeout=5).close()
        self.download(btd)

    def test_an_interface_name_binds_to_that_device(self):
        btd = self.daemon("lo")
        self.download(btd)

    def test_an_unknown_interface_stops_btd_with_a_clear_message(self):
        res = subprocess.run([H.btd_binary(), "--state-dir", os.path.join(self.root, "s"),
                              "--bind", "nosuchif0", "--foreground"],
                             capture_output=True, text=True, timeout=30)
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("nosuchif0", res.stderr)
        self.assertIn("network interface", res.stderr)


if __name__ == "__main__":
    unittest.main()
