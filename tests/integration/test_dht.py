"""The DHT (BEP 5) against libtorrent DHT nodes on loopback (issue 11 item 3).

- a torrent without any tracker is found through the DHT only (btd bootstraps from libtorrent
  nodes) and downloaded from a libtorrent seeder, every byte compared; btd's time next to a
  libtorrent leecher's on the same swarm;
- btd's announce reaches the libtorrent nodes, and a libtorrent leecher that only has the DHT
  downloads from btd;
- a private torrent is never announced or looked up (the libtorrent nodes' view);
- the routing table is saved in the state dir and a restart with no bootstrap node rejoins.
Nothing but 127.0.0.0/8 is contacted: btd's --dht-bootstrap names only the libtorrent nodes.
"""
import os
import subprocess
import time
import unittest

import harness as H
import lt_dht
from test_daemon_lifecycle import BtdDaemon

import libtorrent as lt

SIZE = 4 * H.MIB


def make_torrent(content, private=False):
    """A trackerless v1 torrent; returns (path, info-hash hex)."""
    fs = lt.file_storage()
    lt.add_files(fs, content)
    ct = lt.create_torrent(fs, 256 * H.KIB, flags=lt.create_torrent.v1_only)
    ct.set_priv(private)
    lt.set_piece_hashes(ct, os.path.dirname(content))
    path = content + (".private" if private else "") + ".torrent"
    with open(path, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    return path, str(lt.torrent_info(path).info_hash())


def wait_for(what, check, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class DhtTestCase(unittest.TestCase):
    IPV6 = False  # the libtorrent nodes on [::1] instead of 127.0.i.1

    def setUp(self):
        H.btd_binary()
        self._tmp = H.TempDir(prefix="btd-dht-")
        self.dir = self._tmp.__enter__()
        self.addCleanup(self._tmp.__exit__, None, None, None)
        self.src = os.path.join(self.dir, "src")
        os.makedirs(self.src)
        self.net = lt_dht.LtDhtNetwork(4, ipv6=self.IPV6)
        self.addCleanup(self.net.close)
        self.net.wait_linked()
        self.daemons = []

    def start_btd(self, name, bootstrap=None, extra=()):
        state = os.path.join(self.dir, name, "state")
        dl = os.path.join(self.dir, name, "dl")
        os.makedirs(dl, exist_ok=True)
        boot = self.net.bootstrap_arg() if bootstrap is None else bootstrap
        self.port = H.free_tcp_udp_port()
        btd = BtdDaemon(state, dl, discovery=True,
                        extra_args=["--dht-bootstrap", boot, "--listen-port", str(self.port),
                                    "--no-lsd", *extra])  # no multicast on the host's LAN
        self.addCleanup(btd.stop)
        self.daemons.append(btd)
        return btd.start()

    def payload(self, name, seed):
        H.make_payload(self.src, H.layout_single(SIZE, name), seed=seed)
        return os.path.join(self.src, name)

    def lt_seed(self, torrent, ih, node=0):
        self.net.nodes[node].add_torrent(torrent, self.src, seed=True)
        # Seen by every other node: libtorrent announced it.
        wait_for("libtorrent's announce", lambda: any(
            a[0] == ih for n in self.net.nodes[1:] for a in n.announces_seen()), 60)

    def wait_seeding_timed(self, btd, tid, start):
        """Seconds from `start` to btd's first payload byte and to seeding (120 s at most)."""
        first = None
        while time.monotonic() < start + 120:
            st = btd.status(tid)
            if first is None and st["downloaded"] > 0:
                first = time.monotonic() - start
            if st["state"] == "seeding":
                return first, time.monotonic() - start
            time.sleep(0.05)
        self.fail(f"not complete in 120 s: {btd.status(tid)}\n{btd.log()[-4000:]}")

    def lt_leech_time(self, torrent, index, via, save, magnet=None):
        """A libtorrent leecher that only has the DHT, given the .torrent or else `magnet`;
        returns (first byte s, complete s)."""
        leech = lt_dht.LtDhtNode(index)
        self.addCleanup(leech.close)
        leech.session.add_dht_node((via.address, via.port))
        start = time.monotonic()
        if magnet:
            h = leech.add_magnet(magnet, save)
        else:
            h = leech.add_torrent(torrent, save, seed=False)
        first = None
        while time.monotonic() - start < 120:
            st = h.status()
            if first is None and st.total_wanted_done > 0:
                first = time.monotonic() - start
            if st.is_seeding:
                return first, time.monotonic() - start
            time.sleep(0.05)
        raise AssertionError("the libtorrent leecher did not complete in 120 s")


class TrackerlessDownload(DhtTestCase):
    def test_found_only_through_the_dht_every_byte_compared(self):
        content = self.payload("trackerless.bin", seed=11)
        torrent, ih = make_torrent(content)
        self.lt_seed(torrent, ih)

        start = time.monotonic()
        btd = self.start_btd("btd")
        tid = btd.add(torrent)["id"]
        first, done = self.wait_seeding_timed(btd, tid, start)
        H.compare_trees(content, os.path.join(btd.download_dir, "trackerless.bin"))

        details = btd.rpc("torrent.get", {"id": tid})
        sources = {p.get("source") for p in details["peers"]}
        if sources:  # both seeds now: the connection may have ended
            self.assertIn("dht", sources)
        stats = btd.rpc("session.stats")
        self.assertTrue(stats["dht"]["enabled"])
        self.assertGreaterEqual(stats["dht"]["nodes"], 3, stats)
        cli = subprocess.run([H.btctl_binary(), "--state-dir", btd.state_dir, "stats"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertRegex(cli.stdout, r"DHT:\s+\d+ nodes, \d+ lookups in flight")

        lt_first, lt_done = self.lt_leech_time(torrent, 9, self.net.nodes[1],
                                               os.path.join(self.dir, "lt-dl"))
        H.compare_trees(content, os.path.join(self.dir, "lt-dl", "trackerless.bin"))
        H.log(f"DHT-only swarm, {SIZE // H.MIB} MiB: btd first byte {first:.2f} s, complete "
              f"{done:.2f} s (from btd start); libtorrent first byte {lt_first:.2f} s, complete "
              f"{lt_done:.2f} s (from add)")


class MagnetThroughDht(DhtTestCase):
    def test_btctl_add_magnet_found_only_through_the_dht(self):
        """`btctl add 'magnet:…'` with nothing but the DHT (no tracker, no x.pe): the metadata
        and the data both come from the libtorrent seeder the DHT names."""
        content = self.payload("magnet-dht.bin", seed=13)
        torrent, ih = make_torrent(content)
        self.lt_seed(torrent, ih)
        btd = self.start_btd("btd")
        start = time.monotonic()
        cli = subprocess.run([H.btctl_binary(), "--state-dir", btd.state_dir, "add",
                              f"magnet:?xt=urn:btih:{ih}&dn=magnet-dht.bin"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(cli.returncode, 0, cli.stdout + cli.stderr)
        first, done = self.wait_seeding_timed(btd, ih, start)
        H.compare_trees(content, os.path.join(btd.download_dir, "magnet-dht.bin"))
        lt_first, lt_done = self.lt_leech_time(torrent, 9, self.net.nodes[1],
                                               os.path.join(self.dir, "lt-dl"))
        # The fair comparison: libtorrent given the same magnet, so it fetches metadata too.
        magnet = f"magnet:?xt=urn:btih:{ih}&dn=magnet-dht.bin"
        ltm_first, ltm_done = self.lt_leech_time(None, 10, self.net.nodes[2],
                                                 os.path.join(self.dir, "lt-magnet-dl"), magnet)
        H.compare_trees(content, os.path.join(self.dir, "lt-magnet-dl", "magnet-dht.bin"))
        H.log(f"magnet, DHT only, {SIZE // H.MIB} MiB: btd first byte {first:.2f} s, complete "
              f"{done:.2f} s (from btctl add); libtorrent (same magnet) first byte "
              f"{ltm_first:.2f} s, complete {ltm_done:.2f} s; libtorrent (.torrent) first byte "
              f"{lt_first:.2f} s, complete {lt_done:.2f} s (from add)")


class BtdAnnounces(DhtTestCase):
    def test_libtorrent_finds_btd_through_the_dht(self):
        content = self.payload("from_btd.bin", seed=12)
        torrent, ih = make_torrent(content)
        btd = self.start_btd("btd")
        os.makedirs(btd.download_dir, exist_ok=True)
        os.link(content, os.path.join(btd.download_dir, "from_btd.bin"))
        tid = btd.add(torrent)["id"]
        btd.wait_state(tid, "seeding", 60)
        seen = wait_for("btd's announce at a libtorrent node", lambda: [
            a for n in self.net.nodes for a in n.announces_seen()
            if a[0] == ih and a[2] == self.port], 60)
        self.assertEqual(seen[0][1], "127.0.0.1", seen)

        save = os.path.join(self.dir, "lt-dl")
        self.lt_leech_time(torrent, 9, self.net.nodes[2], save)
        H.compare_trees(content, os.path.join(save, "from_btd.bin"))
        self.assertGreater(btd.status(tid)["uploaded"], 0)


class PrivateTorrent(DhtTestCase):
    def test_a_private_torrent_is_never_announced_on_the_dht(self):
        public = self.payload("public.bin", seed=13)
        secret = self.payload("private.bin", seed=14)
        public_t, public_ih = make_torrent(public)
        private_t, private_ih = make_torrent(secret, private=True)
        btd = self.start_btd("btd")
        for content in (public, secret):
            os.link(content, os.path.join(btd.download_dir, os.path.basename(content)))
        private_id = btd.add(private_t)["id"]
        public_id = btd.add(public_t)["id"]
        btd.wait_state(private_id, "seeding", 60)
        btd.wait_state(public_id, "seeding", 60)
        # The public one proves btd announces; the private one had as long.
        wait_for("the public torrent's announce", lambda: any(
            a[0] == public_ih for n in self.net.nodes for a in n.announces_seen()), 60)
        time.sleep(3)
        for n in self.net.nodes:
            self.assertNotIn(private_ih, [a[0] for a in n.announces_seen()])
            self.assertNotIn(private_ih, n.get_peers_seen())


class RoutingTableKept(DhtTestCase):
    def test_the_table_is_saved_and_a_restart_rejoins_without_bootstrap(self):
        btd = self.start_btd("btd")
        wait_for("3 nodes in btd's table",
                 lambda: btd.rpc("session.stats")["dht"]["nodes"] >= 3, 60)
        rc, _ = btd.signal_and_wait(timeout=20)
        self.assertEqual(rc, 0)
        table_file = os.path.join(btd.state_dir, "dht.dat")
        self.assertTrue(os.path.exists(table_file), os.listdir(btd.state_dir))
        with open(table_file, "rb") as f:
            saved = lt.bdecode(f.read())
        self.assertGreaterEqual(len(saved[b"nodes"]) // 26, 3, saved)
        first_id = saved[b"id"]

        # No bootstrap node at all: only the saved table can bring nodes back.
        btd2 = BtdDaemon(btd.state_dir, btd.download_dir, discovery=True,
                         extra_args=["--dht-bootstrap", "", "--listen-port", str(self.port),
                                     "--no-lsd"])
        self.addCleanup(btd2.stop)
        btd2.start()
        wait_for("nodes from the saved table",
                 lambda: btd2.rpc("session.stats")["dht"]["nodes"] >= 3, 60)
        rc, _ = btd2.signal_and_wait(timeout=20)
        with open(table_file, "rb") as f:
            self.assertEqual(lt.bdecode(f.read())[b"id"], first_id, "the node id is kept")


class Ipv6Dht(DhtTestCase):
    """BEP 32: btd's IPv6 DHT node, bootstrapped from libtorrent nodes on [::1] only, finds a
    libtorrent seeder that announced itself on the IPv6 DHT; btd's IPv4 DHT knows nobody."""

    IPV6 = True

    def test_a_seeder_found_only_through_the_ipv6_dht(self):
        content = self.payload("v6.bin", seed=17)
        torrent, ih = make_torrent(content)
        self.lt_seed(torrent, ih)
        announces = [a for n in self.net.nodes[1:] for a in n.announces_seen() if a[0] == ih]
        self.assertTrue(all(a[1] == "::1" for a in announces), announces)
        btd = self.start_btd("btd")  # --dht-bootstrap names only the [::1] nodes
        tid = btd.add(torrent)["id"]
        peers_seen = set()
        deadline = time.monotonic() + 120
        while btd.status(tid)["state"] != "seeding" and time.monotonic() < deadline:
            peers_seen |= {(p["address"], p.get("source"))
                           for p in btd.rpc("torrent.get", {"id": tid})["peers"]}
            time.sleep(0.05)
        self.assertEqual(btd.status(tid)["state"], "seeding", btd.log()[-4000:])
        H.compare_trees(content, os.path.join(btd.download_dir, "v6.bin"))
        for address, source in peers_seen:  # seen while downloading (both seed at the end)
            self.assertTrue(address.startswith("[::1]:"), peers_seen)
            self.assertEqual(source, "dht")
        # btd's table keeps one node per address (as libtorrent's dht_restrict_routing_ips):
        # the four nodes on ::1 count once.
        stats = btd.rpc("session.stats")
        self.assertGreaterEqual(stats["dht"]["nodes"], 1, stats)


class DhtOffByDefaultInTests(unittest.TestCase):
    def test_no_dht_flag_turns_it_off(self):
        with H.TempDir(prefix="btd-dht-off-") as d:
            btd = BtdDaemon(os.path.join(d, "state"), os.path.join(d, "dl"))
            self.addCleanup(btd.stop)
            btd.start()
            stats = btd.rpc("session.stats")
            self.assertFalse(stats["dht"]["enabled"])
            self.assertEqual(stats["dht"]["nodes"], 0)
            self.assertNotIn("dht: node", btd.log())


if __name__ == "__main__":
    unittest.main()
