"""libtorrent DHT nodes on loopback for the DHT tests (python3-libtorrent 2.0.8, in process).

Each node is a libtorrent session with its own address in its own /24 (127.0.i.1): libtorrent
keeps one node per /24 in a bucket (dht_restrict_routing_ips) and one per address in a search
(dht_restrict_search_ips), so nodes that all sat on 127.0.0.1 would crowd each other out. The
public routers are never asked (dht_bootstrap_nodes = ""); nodes are linked with add_dht_node.
"""
import os
import time

import libtorrent as lt

import harness as H


def node_address(i):
    return f"127.0.{i}.1"


def dht_settings(address, port):
    return {
        "listen_interfaces": f"{address}:{port}",
        "outgoing_interfaces": address,
        "enable_dht": True,
        "dht_bootstrap_nodes": "",
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "allow_multiple_connections_per_ip": True,
        # Loopback is "dark internet" and private to libtorrent: allow it, one node per /24.
        "dht_ignore_dark_internet": False,
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_prefer_verified_node_ids": False,
        "dht_enforce_node_id": False,
        "alert_mask": lt.alert.category_t.all_categories,
    }


def free_port_v6():
    import socket
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::1", 0))
        return s.getsockname()[1]


class LtDhtNode:
    """ipv6: on [::1] (BEP 32), every node on the same address with its own port; libtorrent
    then needs dht_restrict_routing_ips/dht_restrict_search_ips off, as set above."""

    def __init__(self, index, ipv6=False):
        self.index = index
        self.address = "::1" if ipv6 else node_address(index)
        self.port = free_port_v6() if ipv6 else H.free_port()
        settings = dht_settings(f"[{self.address}]" if ipv6 else self.address, self.port)
        if ipv6:
            del settings["outgoing_interfaces"]
        self.session = lt.session(settings)
        self.alerts = []

    @property
    def endpoint(self):
        return f"[{self.address}]:{self.port}" if ":" in self.address else \
            f"{self.address}:{self.port}"

    def poll(self):
        self.alerts += self.session.pop_alerts()
        return self.alerts

    def dht_nodes(self):
        return self.session.status().dht_nodes

    def announces_seen(self):
        """(info-hash hex, ip, port) of every announce_peer this node received."""
        out = []
        for a in self.poll():
            if isinstance(a, lt.dht_announce_alert):
                out.append((str(a.info_hash), str(a.ip), a.port))
        return out

    def get_peers_seen(self):
        return [str(a.info_hash) for a in self.poll() if isinstance(a, lt.dht_get_peers_alert)]

    def add_torrent(self, torrent, save_path, seed):
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(torrent)
        params.save_path = save_path
        if seed:
            params.flags |= lt.torrent_flags.seed_mode
        return self.session.add_torrent(params)

    def add_magnet(self, uri, save_path):
        params = lt.parse_magnet_uri(uri)
        params.save_path = save_path
        return self.session.add_torrent(params)

    def close(self):
        self.session.pause()
        del self.session


class LtDhtNetwork:
    """n libtorrent DHT nodes linked to each other; `bootstrap_arg()` is btd's --dht-bootstrap."""

    def __init__(self, n=4, first=1, ipv6=False):
        self.nodes = [LtDhtNode(first + i, ipv6) for i in range(n)]
        for a in self.nodes:
            for b in self.nodes:
                if a is not b:
                    a.session.add_dht_node((b.address, b.port))

    def wait_linked(self, timeout=30):
        deadline = time.monotonic() + timeout
        want = len(self.nodes) - 1
        while time.monotonic() < deadline:
            if all(n.dht_nodes() >= want for n in self.nodes):
                return
            time.sleep(0.1)
        raise AssertionError("libtorrent DHT nodes did not find each other: "
                             f"{[n.dht_nodes() for n in self.nodes]}")

    def bootstrap_arg(self):
        return ",".join(n.endpoint for n in self.nodes)

    def close(self):
        for n in self.nodes:
            n.close()
