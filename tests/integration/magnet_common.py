"""Shared pieces of the magnet tests: an in-process libtorrent node on 127.0.0.1 (DHT, LSD,
UPnP and NAT-PMP off, as lt_peer.py sets them), a payload with its v1 .torrent, and btd jobs
watched over RPC."""

import os
import time

import harness as H
import lt_peer


class LtNode:
    """One libtorrent session in this process; `seed()` or `leech_magnet()` one torrent."""

    def __init__(self):
        import libtorrent as lt
        self.lt = lt
        self.port = H.free_port()
        self.session = lt_peer.make_session(self.port)
        self.handle = None

    def seed(self, torrent, save_path, timeout=60):
        lt = self.lt
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(torrent)
        atp.save_path = save_path
        self.handle = self.session.add_torrent(atp)
        self._wait(lambda s: s.is_seeding, timeout, "seeding")
        return self

    def leech_magnet(self, uri, save_path):
        atp = self.lt.parse_magnet_uri(uri)
        atp.save_path = save_path
        self.handle = self.session.add_torrent(atp)
        return self

    def connect(self, port):
        self.handle.connect_peer(("127.0.0.1", port))

    def wait_finished(self, timeout):
        return self._wait(lambda s: s.is_seeding, timeout, "complete")

    def _wait(self, done, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.session.pop_alerts()
            status = self.handle.status()
            if done(status):
                return status
            time.sleep(0.1)
        raise AssertionError(f"libtorrent not {what} within {timeout}s: {self.handle.status().state}")

    def close(self):
        if self.session is None:
            return
        if self.handle is not None:
            self.session.remove_torrent(self.handle)
        self.session = None  # libtorrent closes its sockets when the session goes


def make_content(root, name, size, piece_length=64 * H.KIB, trackers=()):
    """The payload under root/src and its v1 .torrent: (src dir, torrent path, info-hash)."""
    src = os.path.join(root, "src")
    H.make_payload(src, H.layout_single(size, name))
    torrent, info_hash = H.make_torrent(os.path.join(src, name), list(trackers),
                                        piece_length=piece_length,
                                        out_path=os.path.join(root, name + ".torrent"))
    return src, torrent, info_hash


def wait_listed(btd, torrent_id, predicate, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        for t in btd.rpc("torrent.list"):
            if t["id"] == torrent_id:
                last = t
                if predicate(t):
                    return t
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout}s, last {last}\n" + btd.log()[-6000:])
