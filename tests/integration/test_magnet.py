#!/usr/bin/python3
"""Magnet links (issue 11 items 1 and 2) against real libtorrent on 127.0.0.1, every byte
compared: a magnet whose x.pe names a libtorrent seeder (no tracker, no DHT); a magnet with
only a tracker (opentracker); btd serving the metadata to a libtorrent leecher that has only
the magnet; a restart while in `metadata` state, and one after the metadata arrived that needs
no peers."""

import os
import subprocess
import time
import unittest

import harness as H
import magnet_common as M
from test_daemon_lifecycle import BtdDaemon

SIZE = 3 * H.MIB + 4321  # last piece short


class Magnet(unittest.TestCase):
    def setUp(self):
        tmp = H.TempDir("btd-magnet-")
        self.root = tmp.__enter__()
        self.addCleanup(tmp.__exit__, None, None, None)
        self.dl = os.path.join(self.root, "dl")
        self.btd = BtdDaemon(os.path.join(self.root, "state"), self.dl)
        self.addCleanup(self.btd.stop)

    def lt_node(self):
        node = M.LtNode()
        self.addCleanup(node.close)
        return node

    def btctl(self, *args):
        res = subprocess.run([H.btctl_binary(), "--state-dir", self.btd.state_dir, *args],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        return res.stdout

    def wait_peer_source(self, ih, source):
        """Polls torrent.get until a peer shows `source` (bounded); returns every source seen."""
        seen = set()
        deadline = time.monotonic() + 60
        while source not in seen and time.monotonic() < deadline:
            seen |= {p["source"] for p in self.btd.rpc("torrent.get", {"id": ih})["peers"]}
            time.sleep(0.05)
        self.assertIn(source, seen, "torrent.get never named the peer's source")
        return seen

    def check_bytes(self, src, name):
        H.compare_trees(os.path.join(src, name), os.path.join(self.dl, name))

    def test_x_pe_to_libtorrent_seeder_without_tracker(self):
        src, torrent, ih = M.make_content(self.root, "xpe.bin", SIZE)
        seeder = self.lt_node().seed(torrent, src)
        seeder.handle.set_upload_limit(1 * H.MIB)  # about 3 s: time to see the peer's source
        self.btd.start()
        uri = f"magnet:?xt=urn:btih:{ih}&dn=xpe.bin&x.pe=127.0.0.1:{seeder.port}"
        out = self.btctl("add", uri)
        self.assertIn("xpe.bin", out)
        self.assertEqual(self.wait_peer_source(ih, "magnet"), {"magnet"})
        M.wait_listed(self.btd, ih, lambda t: t["state"] == "seeding", 120, "download")
        self.check_bytes(src, "xpe.bin")
        self.assertIn("metadata received", self.btd.log())

    def test_file_priorities_given_with_a_magnet_apply_once_the_files_are_known(self):
        import libtorrent as lt
        folder = os.path.join(self.root, "src", "prio")
        piece = 64 * H.KIB  # every file a whole number of pieces: a skipped one shares none
        H.make_payload(folder, [("a.bin", 4 * piece), ("b.bin", 3 * piece), ("c.bin", 2 * piece)],
                       seed=7)
        torrent, ih = H.make_torrent(folder, [], piece_length=piece,
                                     out_path=os.path.join(self.root, "prio.torrent"))
        files = lt.torrent_info(torrent).files()
        names = [os.path.basename(files.file_path(i)) for i in range(files.num_files())]
        wanted = {"a.bin": 4, "b.bin": 0, "c.bin": 7}
        seeder = self.lt_node().seed(torrent, os.path.join(self.root, "src"))
        self.btd.start()
        uri = f"magnet:?xt=urn:btih:{ih}&dn=prio&x.pe=127.0.0.1:{seeder.port}"
        self.btd.rpc("torrent.add", {"uri": uri, "file_priorities": [wanted[n] for n in names]})
        M.wait_listed(self.btd, ih, lambda t: t["state"] == "seeding", 120, "download")
        info = self.btd.rpc("torrent.get", {"id": ih})
        self.assertEqual({os.path.basename(f["path"]): f["priority"] for f in info["files"]},
                         wanted)
        self.assertEqual(info["size"], 6 * piece)
        for name in ("a.bin", "c.bin"):
            H.compare_trees(os.path.join(folder, name), os.path.join(self.dl, "prio", name))
        self.assertFalse(os.path.exists(os.path.join(self.dl, "prio", "b.bin")),
                         "a skipped file was written")

    def test_tracker_only_magnet_from_a_dot_magnet_file(self):
        src, torrent, ih = M.make_content(self.root, "tr.bin", SIZE)
        with H.Tracker([ih]) as tracker:
            # The seeder's own .torrent names the tracker; the magnet names it too, nothing else.
            torrent, ih2 = H.make_torrent(os.path.join(src, "tr.bin"), [tracker.http_url],
                                          piece_length=64 * H.KIB,
                                          out_path=os.path.join(self.root, "tr2.torrent"))
            self.assertEqual(ih, ih2)
            with H.LtPeer(torrent, src, mode="seed", upload_limit=1 * H.MIB) as seeder:
                seeder.wait_ready()
                self.btd.start()
                link = os.path.join(self.root, "tr.magnet")
                with open(link, "w") as f:
                    f.write(f"magnet:?xt=urn:btih:{ih}&tr={tracker.http_url}\n")
                self.btctl("add", link)
                self.assertEqual(self.wait_peer_source(ih, "tracker"), {"tracker"})
                M.wait_listed(self.btd, ih, lambda t: t["state"] == "seeding", 120, "download")
        self.check_bytes(src, "tr.bin")

    def test_btd_serves_metadata_to_a_libtorrent_magnet_leecher(self):
        src, torrent, ih = M.make_content(self.root, "serve.bin", SIZE)
        os.makedirs(self.dl)
        os.rename(os.path.join(src, "serve.bin"), os.path.join(self.dl, "serve.bin"))
        self.btd.start()
        self.btd.add(torrent)
        M.wait_listed(self.btd, ih, lambda t: t["state"] == "seeding", 60, "btd seeding")
        port = self.btd.rpc("session.get")["listen_port"]
        leech_dir = os.path.join(self.root, "leech")
        leecher = self.lt_node().leech_magnet(f"magnet:?xt=urn:btih:{ih}", leech_dir)
        leecher.connect(port)
        leecher.wait_finished(120)
        H.compare_trees(os.path.join(self.dl, "serve.bin"), os.path.join(leech_dir, "serve.bin"))

    def test_restart_in_metadata_state_then_restart_without_peers(self):
        src, torrent, ih = M.make_content(self.root, "later.bin", SIZE)
        seeder = M.LtNode()  # its port is fixed now; it seeds only after the restart
        self.addCleanup(seeder.close)
        self.btd.start()
        self.btd.rpc("torrent.add", {"uri": f"magnet:?xt=urn:btih:{ih}&dn=later.bin"
                                            f"&x.pe=127.0.0.1:{seeder.port}"})
        job = M.wait_listed(self.btd, ih, lambda t: t["state"] == "metadata", 30, "metadata")
        self.assertEqual(job["name"], "later.bin")
        self.btd.signal_and_wait()
        self.btd.start()
        M.wait_listed(self.btd, ih, lambda t: t["state"] == "metadata", 30, "still metadata")
        seeder.seed(torrent, src)
        M.wait_listed(self.btd, ih, lambda t: t["state"] == "seeding", 180, "download")
        self.check_bytes(src, "later.bin")
        # The .torrent is stored: with no peer at all the job comes back whole.
        seeder.close()
        self.btd.signal_and_wait()
        self.assertTrue(os.path.exists(os.path.join(self.btd.state_dir, "torrents",
                                                    ih + ".torrent")))
        self.assertFalse(os.path.exists(os.path.join(self.btd.state_dir, "torrents",
                                                     ih + ".magnet")))
        self.btd.start()
        back = M.wait_listed(self.btd, ih, lambda t: t["state"] == "seeding", 60, "restored")
        self.assertEqual(back["name"], "later.bin")
        self.assertEqual(back["size"], SIZE)

    def test_a_queued_magnet_fetches_nothing_until_it_gets_a_download_slot(self):
        """max_active_downloads = 1: a magnet fetching metadata holds the slot, a second magnet
        waits `queued` without dialling its x.pe seeder, and gets the slot once the first one
        is paused; then it downloads, every byte compared."""
        src, torrent, ih = M.make_content(self.root, "queued.bin", SIZE)
        seeder = self.lt_node().seed(torrent, src)
        self.btd.start()
        self.btd.rpc("session.set", {"max_active_downloads": 1, "queue_stalled_after": 0})
        nobody = "ab" * 20  # no peer anywhere has it: this job keeps looking
        self.btd.rpc("torrent.add", {"uri": f"magnet:?xt=urn:btih:{nobody}&dn=first"})
        M.wait_listed(self.btd, nobody, lambda t: t["state"] == "metadata", 30, "first runs")
        self.btd.rpc("torrent.add", {"uri": f"magnet:?xt=urn:btih:{ih}&dn=queued.bin"
                                            f"&x.pe=127.0.0.1:{seeder.port}"})
        job = M.wait_listed(self.btd, ih, lambda t: t["state"] == "queued", 30, "second queued")
        self.assertEqual(job["queue_position"], 1)
        time.sleep(4)  # ticks and queue updates pass; it must not fetch meanwhile
        job = M.wait_listed(self.btd, ih, lambda t: True, 5, "second listed")
        self.assertEqual(job["state"], "queued", job)
        self.assertEqual(job["peers"], 0, job)
        seeder.session.pop_alerts()
        self.assertEqual(seeder.handle.status().num_peers, 0, "the queued magnet dialled")
        self.btd.rpc("torrent.queue_move", {"ids": [ih], "to": "top"})  # magnets move too
        self.assertEqual(self.btd.status(ih)["queue_position"], 0)
        self.btd.rpc("torrent.pause", {"ids": [nobody]})
        M.wait_listed(self.btd, ih, lambda t: t["state"] == "seeding", 120, "download")
        self.check_bytes(src, "queued.bin")

    def test_silent_peers_do_not_hold_the_metadata_slots(self):
        """Twenty raw peers (every slot of the job) complete the handshake, then say nothing or
        only keep-alives; the libtorrent seeder also named by x.pe is not listening yet. Once it
        is, btd must reach it: silent peers are dropped, so a slot frees."""
        src, torrent, ih = M.make_content(self.root, "silent.bin", SIZE)
        raws = []
        for i in range(20):  # MetadataJob::kMaxPeers
            raw = M.RawPeer(ih, keep_alive_every=2 if i % 2 else None)
            self.addCleanup(raw.close)
            raws.append(raw)
        seeder_port = H.free_port()
        self.btd.start()
        xpe = "".join(f"&x.pe=127.0.0.1:{r.port}" for r in raws)
        self.btd.rpc("torrent.add", {"uri": f"magnet:?xt=urn:btih:{ih}&dn=silent.bin{xpe}"
                                            f"&x.pe=127.0.0.1:{seeder_port}"})
        M.wait_listed(self.btd, ih, lambda t: t["peers"] >= 20, 30, "every slot taken")
        seeder = M.LtNode(seeder_port)
        self.addCleanup(seeder.close)
        seeder.seed(torrent, src)
        M.wait_listed(self.btd, ih, lambda t: t["state"] == "seeding", 150, "download")
        self.check_bytes(src, "silent.bin")
        self.assertGreaterEqual(sum(r.closed for r in raws), 20)
        self.assertIn("dropped: no extension handshake within 10 s", self.btd.log())

    def test_metadata_progress_is_the_fraction_fetched(self):
        """A raw peer serves the first of the two metadata pieces only: torrent.get's
        metadata_progress and Transmission's metadataPercentComplete say 0.5; 1 once known."""
        from test_transmission_remote import TransmissionClient
        big = 16 * H.MIB  # 1024 pieces of 16 KiB: a 20 KiB info dictionary, two pieces
        src, torrent, ih = M.make_content(self.root, "half.bin", big, piece_length=16 * H.KIB)
        info = M.info_dict_of(torrent)
        self.assertGreater(len(info), 16384)
        raw = M.RawPeer(ih, ext_handshake=True, metadata=info, serve={0})
        self.addCleanup(raw.close)
        seeder_port = H.free_port()  # not listening until the half is checked
        self.btd.start()
        self.btd.rpc("torrent.add", {"uri": f"magnet:?xt=urn:btih:{ih}&dn=half.bin"
                                            f"&x.pe=127.0.0.1:{raw.port}"
                                            f"&x.pe=127.0.0.1:{seeder_port}"})
        deadline = time.monotonic() + 15  # before the request for piece 1 times out (20 s)
        progress = 0
        while time.monotonic() < deadline and progress != 0.5:
            progress = self.btd.rpc("torrent.get", {"id": ih}).get("metadata_progress")
            time.sleep(0.1)
        self.assertEqual(progress, 0.5)
        client = TransmissionClient(self.btd.address, self.btd.secret)
        got = client.call("torrent-get", {"fields": ["hashString", "metadataPercentComplete"]})
        by_hash = {t["hashString"]: t for t in got["arguments"]["torrents"]}
        self.assertEqual(by_hash[ih]["metadataPercentComplete"], 0.5)
        seeder = M.LtNode(seeder_port)
        self.addCleanup(seeder.close)
        seeder.seed(torrent, src)
        M.wait_listed(self.btd, ih, lambda t: t["state"] == "seeding", 150, "download")
        self.check_bytes(src, "half.bin")
        self.assertEqual(self.btd.rpc("torrent.get", {"id": ih})["metadata_progress"], 1)
        got = client.call("torrent-get", {"fields": ["hashString", "metadataPercentComplete"]})
        self.assertEqual(got["arguments"]["torrents"][0]["metadataPercentComplete"], 1)


if __name__ == "__main__":
    unittest.main()
