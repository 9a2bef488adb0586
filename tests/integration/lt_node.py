"""A libtorrent session inside the test's own process, for tests that need to steer it while it
runs (connect it to a peer, read where it learned its peers from, count its PEX messages).

libtorrent works on its own threads; the test calls poll() (or a wait_* helper, which polls) to
drain alerts and read its peer list. Every wait is bounded. Bound to 127.0.0.1 (or `ip`); DHT,
UPnP and NAT-PMP off; LSD only when asked for (then only inside a network namespace the test
made).
"""

import os
import re
import time

import libtorrent as lt

import harness as H


class LtNode:
    def __init__(self, torrent, save_path, ip="127.0.0.1", lsd=False, upload_limit=0,
                 download_limit=0, keep_seed_links=False, peer_log=False, pex=True):
        """keep_seed_links: keep connections between seeds (libtorrent closes them by default),
        so that a seed can name another seed by PEX. pex=False: this torrent neither sends nor
        uses PEX (so it cannot race a test's peer to a connection)."""
        self.port = H.free_port()
        mask = (lt.alert.category_t.error_notification | lt.alert.category_t.status_notification
                | lt.alert.category_t.tracker_notification | lt.alert.category_t.peer_notification)
        if peer_log:
            mask |= lt.alert.category_t.peer_log_notification
        self.session = lt.session({
            "listen_interfaces": f"{ip}:{self.port}",
            "outgoing_interfaces": ip,
            "enable_dht": False,
            "enable_lsd": lsd,
            "enable_upnp": False,
            "enable_natpmp": False,
            "allow_multiple_connections_per_ip": True,
            "enable_incoming_utp": False,
            "enable_outgoing_utp": False,
            "close_redundant_connections": not keep_seed_links,
            "alert_mask": mask,
            "alert_queue_size": 100000,
        })
        # libtorrent 2.0 puts loopback peers in its `local` peer class, which no torrent or
        # session limit touches: the limits go on that class.
        local = self.session.get_peer_class(lt.session.local_peer_class_id)
        local.update({"upload_limit": upload_limit, "download_limit": download_limit})
        self.session.set_peer_class(lt.session.local_peer_class_id, local)
        self.info = lt.torrent_info(torrent)
        params = lt.add_torrent_params()
        params.ti = self.info
        params.save_path = os.path.abspath(save_path)
        params.flags &= ~lt.torrent_flags.auto_managed
        params.flags &= ~lt.torrent_flags.paused
        if not pex:
            params.flags |= lt.torrent_flags.disable_pex
        self.handle = self.session.add_torrent(params)
        self.peers = {}  # port -> libtorrent's source flags (peer_info.source) seen for it
        self.pex_from = {}  # "ip:port" -> PEX messages received from that peer
        self.tracker_replies = 0
        self.lsd_peers = set()  # ports local service discovery named to it
        self.errors = []

    def poll(self):
        for a in self.session.pop_alerts():
            if isinstance(a, lt.tracker_reply_alert):
                self.tracker_replies += 1
            elif "received peer from local service discovery" in a.message():
                # lsd_peer_alert has no python binding: its text names the endpoint.
                found = re.search(r"peer \[ [^ ]*:(\d+) ", a.message())
                if found:
                    self.lsd_peers.add(int(found.group(1)))
            elif isinstance(a, (lt.torrent_error_alert, lt.file_error_alert,
                                lt.listen_failed_alert)):
                self.errors.append(a.message())
            elif isinstance(a, lt.peer_log_alert) and "<== PEX [" in a.message():
                key = f"{a.endpoint[0]}:{a.endpoint[1]}"
                self.pex_from[key] = self.pex_from.get(key, 0) + 1
        for p in self.handle.get_peer_info():
            if p.flags & (lt.peer_info.connecting | lt.peer_info.handshake):
                continue
            self.peers[p.ip[1]] = self.peers.get(p.ip[1], 0) | p.source
        if self.errors:
            raise AssertionError(f"libtorrent on port {self.port}: {self.errors}")

    def connected_ports(self):
        return {p.ip[1] for p in self.handle.get_peer_info()
                if not p.flags & (lt.peer_info.connecting | lt.peer_info.handshake)}

    def wait(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.poll()
            if predicate():
                return
            time.sleep(0.1)
        raise AssertionError(f"libtorrent on port {self.port}: no {what} within {timeout} s "
                             f"(peers seen: {self.peers})")

    def wait_seeding(self, timeout=60):
        self.wait(lambda: self.handle.status().is_seeding, timeout, "seeding")

    def connect(self, port, ip="127.0.0.1"):
        self.handle.connect_peer((ip, port))

    def status(self):
        return self.handle.status()

    def close(self):
        self.session.pause()
        self.session.remove_torrent(self.handle)
        self.handle = None
        self.session = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.session is not None:
            self.close()
