#!/usr/bin/python3
"""Local peer discovery (BEP 14) between btd and libtorrent, inside a network namespace.

Each test re-runs itself under `unshare -n` (root only), brings `lo` up and routes the LSD
multicast group over it, so no datagram ever leaves the test's namespace.

1. btd (LSD on) and a libtorrent seeder with LSD find each other and btd downloads the torrent
   (every byte compared): libtorrent hears btd's announce, btd dials a peer named only by an LSD
   datagram, and btd's announces are rate-limited (one datagram per torrent in the window, at
   least ~1 s apart) and never name a private torrent.
2. `--no-lsd`: btd neither announces nor dials peers that LSD datagrams name.
"""

import os
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

import harness as H
import libtorrent as lt
from lt_node import LtNode
from test_daemon_lifecycle import BtdDaemon

IN_NAMESPACE = "BTD_TEST_LSD_NAMESPACE"
GROUP, LSD_PORT = "239.192.152.143", 6771


def prepare_namespace():
    subprocess.run(["ip", "link", "set", "lo", "up", "multicast", "on"], check=True)
    # Multicast needs a route; the namespace has only lo. Without `src` a socket bound to
    # 0.0.0.0 would send from 0.0.0.0 (lo's address has host scope), which libtorrent drops.
    subprocess.run(["ip", "route", "add", "239.0.0.0/8", "dev", "lo", "src", "127.0.0.1"],
                   check=True)


class LsdWatch:
    """Every BT-SEARCH datagram sent to the group, as it arrives (a thread reads them):
    (time.monotonic(), info-hashes hex, ports)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("", LSD_PORT))
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                             socket.inet_aton(GROUP) + socket.inet_aton("0.0.0.0"))
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        self.sock.settimeout(0.2)
        self.seen = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while not self._stop.is_set():
            try:
                data, _ = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            lines = data.decode("latin-1").split("\r\n")
            hashes = [line.split(":", 1)[1].strip().lower() for line in lines
                      if line.lower().startswith("infohash:")]
            ports = [int(line.split(":", 1)[1]) for line in lines
                     if line.lower().startswith("port:")]
            self.seen.append((time.monotonic(), hashes, ports))

    def from_port(self, port):
        return [entry for entry in list(self.seen) if port in entry[2]]

    def announce(self, info_hash, port):
        """An LSD announce as another client on the LAN sends it."""
        text = (f"BT-SEARCH * HTTP/1.1\r\nHost: {GROUP}:{LSD_PORT}\r\nPort: {port}\r\n"
                f"Infohash: {info_hash}\r\ncookie: test\r\n\r\n\r\n")
        self.sock.sendto(text.encode(), (GROUP, LSD_PORT))

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


def dialled_within(listener, seconds):
    listener.settimeout(seconds)
    try:
        conn, _ = listener.accept()
        conn.close()
        return True
    except socket.timeout:
        return False


def make_torrent(root, name, private, size):
    content = os.path.join(H.make_payload(os.path.join(root, name), H.layout_single(size, name)),
                           name)
    fs = lt.file_storage()
    lt.add_files(fs, content)
    ct = lt.create_torrent(fs, 64 * H.KIB, flags=lt.create_torrent.v1_only)
    ct.set_priv(private)
    lt.set_piece_hashes(ct, os.path.dirname(content))
    path = os.path.join(root, name + ".torrent")
    with open(path, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    return path, content, str(lt.torrent_info(path).info_hash())


class Lsd(unittest.TestCase):
    def in_namespace(self):
        """True when the body should run here; otherwise runs this test in a fresh namespace
        and checks that it passed there."""
        if os.environ.get(IN_NAMESPACE) == "1":
            prepare_namespace()
            return True
        if os.geteuid() != 0:
            self.skipTest("LSD runs in a network namespace the test makes: needs root")
        name = f"Lsd.{self._testMethodName}"
        res = subprocess.run(["unshare", "-n", H.PYTHON, os.path.abspath(__file__), name],
                             env={**os.environ, IN_NAMESPACE: "1"}, capture_output=True,
                             text=True, timeout=600)
        sys.stderr.write(res.stdout + res.stderr)
        self.assertEqual(res.returncode, 0, f"{name} failed in its network namespace")
        return False

    def start_btd(self, tmp, lsd):
        flags = [f for f in H.NO_DISCOVERY_FLAGS if f != "--no-lsd"] + ([] if lsd else
                                                                          ["--no-lsd"])
        btd = BtdDaemon(os.path.join(tmp, "state"), os.path.join(tmp, "dl"), discovery=True,
                        extra_args=flags).start()
        self.addCleanup(btd.stop)
        return btd

    def test_btd_and_libtorrent_find_each_other(self):
        if not self.in_namespace():
            return
        with H.TempDir() as tmp:
            watch = LsdWatch()
            self.addCleanup(watch.close)
            public, content, public_hash = make_torrent(tmp, "lan.bin", False, 4 * H.MIB)
            private, _, private_hash = make_torrent(tmp, "secret.bin", True, 64 * H.KIB)
            # libtorrent runs first: it hears btd's first announce and dials btd.
            with LtNode(public, os.path.dirname(content), lsd=True) as seeder:
                seeder.wait_seeding()
                btd = self.start_btd(tmp, lsd=True)
                btd_port = btd.rpc("session.get")["listen_port"]
                btd.add(private)
                tid = btd.add(public)["id"]
                state = btd.wait_state(tid, "seeding", 120)
                H.compare_trees(content, os.path.join(tmp, "dl", "lan.bin"))
                seeder.wait(lambda: btd_port in seeder.lsd_peers, 30, "LSD announce from btd")
                sources = {p["address"]: p.get("source")
                           for p in btd.rpc("torrent.get", {"id": tid})["peers"]}
                H.log(f"btd {state['state']}; its peers: {sources}; libtorrent heard LSD "
                      f"announces naming ports {seeder.lsd_peers}")
            # A peer only an LSD datagram names is dialled.
            with socket.create_server(("127.0.0.1", 0)) as listener:
                watch.announce(public_hash, listener.getsockname()[1])
                self.assertTrue(dialled_within(listener, 15),
                                "btd did not dial the peer an LSD announce named")
            announces = watch.from_port(btd_port)
            H.log(f"btd's LSD datagrams: {announces}")
            named = [h for _, hashes, _ in announces for h in hashes]
            self.assertEqual(named.count(public_hash), 1, "one announce per torrent (5 min)")
            self.assertNotIn(private_hash, named, "a private torrent was announced")
            times = [t for t, _, _ in announces]
            self.assertTrue(all(b - a >= 0.9 for a, b in zip(times, times[1:])), times)

    def test_no_lsd_turns_it_off(self):
        if not self.in_namespace():
            return
        with H.TempDir() as tmp:
            watch = LsdWatch()
            self.addCleanup(watch.close)
            public, _, public_hash = make_torrent(tmp, "quiet.bin", False, 256 * H.KIB)
            btd = self.start_btd(tmp, lsd=False)
            btd_port = btd.rpc("session.get")["listen_port"]
            tid = btd.add(public)["id"]
            btd.wait_state(tid, "downloading", 30)
            with socket.create_server(("127.0.0.1", 0)) as listener:
                watch.announce(public_hash, listener.getsockname()[1])
                self.assertFalse(dialled_within(listener, 6),
                                 "btd dialled a peer from LSD with --no-lsd")
            time.sleep(2)
            self.assertEqual(watch.from_port(btd_port), [])
            self.assertNotIn("local peer discovery on", btd.log())


if __name__ == "__main__":
    unittest.main()
