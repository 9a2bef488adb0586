#!/usr/bin/python3
"""btd accepts peers over IPv6: with the default listen address ("0.0.0.0" = IPv4 and IPv6
any, core/session/listener.hpp) a libtorrent leecher that only knows btd as [::1]:PORT gets
every byte from it.

btd (one-shot `--download ... --seed`) hash-checks and seeds an 8 MiB file. The leecher runs
in this process, listens on [::1] only, uses a copy of the torrent without trackers (same
info-hash) and is given btd's endpoint with connect_peer(("::1", port)), so IPv6 is its only
way to the data. Skipped (unittest skip, exit 0, "SKIP:" printed) when ::1 is not usable here.
"""

import os
import socket
import time
import unittest

import harness as H
import lt_peer

TIMEOUT = 45


def ipv6_loopback_usable():
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
            s.listen(1)
            with socket.create_connection(("::1", s.getsockname()[1]), timeout=2):
                pass
        return True
    except OSError:
        return False


class Ipv6Incoming(unittest.TestCase):
    def test_libtorrent_leecher_over_ipv6(self):
        if not ipv6_loopback_usable():
            print("SKIP: ::1 is not usable on this machine", flush=True)
            self.skipTest("::1 is not usable on this machine")
        import libtorrent as lt

        size = 8 * H.MIB + 999
        with H.Swarm(H.layout_single(size, "v6.bin"), "v6.bin") as sw:
            btd = H.BtdPeer(sw.torrent, sw.src_dir, log_level="debug").start()
            self.addCleanup(btd.stop)
            btd.wait_seeding(60)

            # The tracker-less twin of the torrent (Swarm's probe.torrent): no IPv4 peer list.
            bare = os.path.join(sw.dir, "probe.torrent")
            info = lt.torrent_info(bare)
            self.assertEqual(str(info.info_hash()), sw.info_hash)
            self.assertEqual(list(info.trackers()), [])

            ses = lt.session({
                "listen_interfaces": "[::1]:0",
                "enable_dht": False, "enable_lsd": False, "enable_upnp": False,
                "enable_natpmp": False, "enable_incoming_utp": False,
                "enable_outgoing_utp": False,
                "alert_mask": lt.alert.category_t.error_notification
                | lt.alert.category_t.status_notification
                | lt.alert.category_t.storage_notification
                | lt.alert.category_t.block_progress_notification,
                "alert_queue_size": 100000,
            })
            params = lt.add_torrent_params()
            params.ti = info
            params.save_path = sw.dl_dir
            params.flags &= ~lt.torrent_flags.auto_managed
            params.flags &= ~lt.torrent_flags.paused
            h = ses.add_torrent(params)
            alerts = lt_peer.AlertWaiter(ses)
            blocks = {}  # (ip, port, peer id prefix) -> blocks received from it
            done = flushed = False
            try:
                deadline = time.monotonic() + TIMEOUT
                next_connect = 0.0
                while time.monotonic() < deadline and not flushed:
                    self.assertTrue(btd.running(), "btd exited:\n" + btd.tail())
                    st = h.status()
                    if not done and st.num_peers == 0 and time.monotonic() >= next_connect:
                        h.connect_peer(("::1", btd.port))
                        next_connect = time.monotonic() + 3
                    if not done and st.is_seeding:
                        done = True
                        h.flush_cache()
                    alerts.wait(0.2)
                    for a in ses.pop_alerts():
                        if isinstance(a, (lt.torrent_error_alert, lt.file_error_alert)):
                            self.fail(f"libtorrent: {a.message()}")
                        if isinstance(a, lt.block_finished_alert):
                            key = (a.ip[0], a.ip[1], a.pid.to_bytes()[:3])
                            blocks[key] = blocks.get(key, 0) + 1
                        if done and isinstance(a, lt.cache_flushed_alert):
                            flushed = True
                st = h.status()
                H.log(f"leecher over ::1: progress {st.progress:.3f}, "
                      f"down {st.total_payload_download}, blocks from {blocks}")
                self.assertTrue(flushed, f"not complete over IPv6 within {TIMEOUT}s "
                                f"(progress {st.progress:.3f})\n" + btd.tail())
                self.assertGreaterEqual(st.total_payload_download, size)
            finally:
                ses.pause()
                del h
                del ses
            self.assertTrue(blocks, "the leecher got no block alerts")
            for ip, p, pid in blocks:
                self.assertEqual((ip, p, pid), ("::1", btd.port, b"-BD"))
            sw.check_download()
            self.assertRegex(btd.output(), r"accepted \[::1\]:\d+ ")
            self.assertEqual(btd.stop(), 0, btd.tail())


if __name__ == "__main__":
    unittest.main()
