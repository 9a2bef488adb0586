#!/usr/bin/python3
"""/events under load: 200 connected SSE clients (read by one thread) and one client that never
reads, during a real download. The same download runs first without any SSE client, then (data
deleted, torrent added again) with them, in the same daemon. Measured: JSON-RPC latency before
and during each download, and both download times; required: the RPC stays fast, the download
with the clients takes at most 2x the one without + 5 s (generous: CI is loaded), both complete
byte for byte, every reading client gets `completed`, and btd still counts all 201 clients (the
non-reader is held in its bounded buffer, not waited for).

Needs BTD_BIN (ctest sets it).
"""

import os
import selectors
import socket
import statistics
import threading
import time
import unittest

import harness as H
import web_common as W
from test_daemon_lifecycle import BtdDaemon

CLIENTS = 200
SIZE = 16 * H.MIB + 99
SEED_RATE = 4 * H.MIB


def rpc_latencies(daemon, n):
    times = []
    for _ in range(n):
        start = time.monotonic()
        daemon.rpc("torrent.list")
        times.append(time.monotonic() - start)
        time.sleep(0.02)
    return times


class Readers:
    """Drains many SSE sockets from one thread; counts `event: completed` per socket."""

    def __init__(self, sockets):
        self.selector = selectors.DefaultSelector()
        self.completed = {s.fileno(): 0 for s in sockets}
        self.tails = {s.fileno(): b"" for s in sockets}
        for s in sockets:
            s.setblocking(False)
            self.selector.register(s, selectors.EVENT_READ)
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            for key, _ in self.selector.select(timeout=0.2):
                try:
                    data = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                if not data:
                    self.selector.unregister(key.fileobj)
                    continue
                fd = key.fileobj.fileno()
                text = self.tails[fd] + data
                self.completed[fd] += text.count(b"event: completed")
                self.tails[fd] = text[-32:]

    def all_completed(self):
        return all(v > 0 for v in self.completed.values())


class EventsUnderLoad(unittest.TestCase):
    def test_many_clients_and_a_non_reader_do_not_slow_btd(self):
        with H.TempDir(prefix="btd-events-load-") as d:
            src, dl = os.path.join(d, "src"), os.path.join(d, "dl")
            os.makedirs(dl)
            H.make_payload(src, H.layout_single(SIZE, "load.bin"), seed=3)
            _, info_hash = H.make_torrent(os.path.join(src, "load.bin"), [],
                                          out_path=os.path.join(d, "probe.torrent"))
            with H.Tracker([info_hash]) as tracker:
                torrent, _ = H.make_torrent(os.path.join(src, "load.bin"), [tracker.http_url],
                                            out_path=os.path.join(d, "load.torrent"))
                seeder = H.LtPeer(torrent, src, mode="seed", upload_limit=SEED_RATE).start()
                self.addCleanup(seeder.stop)
                seeder.wait_ready(60)
                daemon = BtdDaemon(os.path.join(d, "state"), dl).start()
                self.addCleanup(H.kill_process, daemon.proc)
                try:
                    self.run_load(daemon, torrent, src, dl)
                except AssertionError as e:
                    raise AssertionError(f"{e}\nbtd log tail:\n{daemon.log()[-4000:]}") from None

    def timed_download(self, daemon, torrent, src, dl):
        """(seconds until seeding, torrent.list latencies during it, torrent id)."""
        start = time.monotonic()
        added = daemon.add(torrent)
        during = rpc_latencies(daemon, 60)
        daemon.wait_state(added["id"], "seeding", H.LEECH_TIMEOUT)
        took = time.monotonic() - start
        H.compare_trees(os.path.join(src, "load.bin"), os.path.join(dl, "load.bin"))
        return took, during, added["id"]

    def remove_with_data(self, daemon, torrent_id, dl):
        daemon.rpc("torrent.remove", {"ids": [torrent_id], "delete_data": True})
        deadline = time.monotonic() + 30
        while os.path.exists(os.path.join(dl, "load.bin")) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertFalse(os.path.exists(os.path.join(dl, "load.bin")), "data not deleted")

    def run_load(self, daemon, torrent, src, dl):
        baseline = rpc_latencies(daemon, 40)
        took_alone, during_alone, first_id = self.timed_download(daemon, torrent, src, dl)
        self.remove_with_data(daemon, first_id, dl)
        clients = [W.SseClient(daemon.address, W.bearer(daemon.secret)) for _ in range(CLIENTS)]
        for c in clients:
            self.addCleanup(c.close)
            self.assertEqual(c.read_head(), 200)
        stuck = W.SseClient(daemon.address, W.bearer(daemon.secret), rcvbuf=4096)
        self.addCleanup(stuck.close)  # sent its request; never reads a byte
        readers = Readers([c.sock for c in clients])
        self.addCleanup(setattr, readers, "stop", True)
        time.sleep(1)

        took, during, _ = self.timed_download(daemon, torrent, src, dl)

        deadline = time.monotonic() + 15
        while not readers.all_completed() and time.monotonic() < deadline:
            time.sleep(0.2)
        missing = sum(1 for v in readers.completed.values() if v == 0)
        self.assertEqual(missing, 0, f"{missing} reading clients did not get `completed`")

        _, _, body = W.request(daemon.address, "GET", "/metrics", W.bearer(daemon.secret))
        count = [l for l in body.decode().splitlines() if l.startswith("btd_event_clients ")]
        self.assertEqual(count, [f"btd_event_clients {CLIENTS + 1}"])

        med_before, med_during = statistics.median(baseline), statistics.median(during)
        med_alone = statistics.median(during_alone)
        p90_during = sorted(during)[int(len(during) * 0.9)]
        H.log(f"RPC torrent.list latency: median {med_before * 1000:.1f} ms idle, "
              f"{med_alone * 1000:.1f} ms during the download without SSE clients, "
              f"{med_during * 1000:.1f} ms during it with {CLIENTS} SSE clients + 1 non-reader "
              f"(p90 {p90_during * 1000:.1f} ms)")
        H.log(f"download of {SIZE / H.MIB:.0f} MiB at a {SEED_RATE / H.MIB:.0f} MiB/s seeder cap: "
              f"{took_alone:.2f} s without SSE clients, {took:.2f} s with them "
              f"(ratio {took / took_alone:.2f})")
        # Generous bounds for a loaded 2-core CI machine: what matters is that nothing waits on
        # the clients (that would show as seconds).
        self.assertLess(p90_during, 0.5)
        self.assertLess(med_during, max(10 * med_before, 0.05))
        self.assertLess(took, 2 * took_alone + 5,
                        f"with the SSE clients {took:.1f} s, without {took_alone:.1f} s")


if __name__ == "__main__":
    unittest.main()
