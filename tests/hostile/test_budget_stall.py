#!/usr/bin/python3
"""Issue 8, case 3: peers that take requests and leave must not stall a download for good.

Forty raw peers (in rounds of five) advertise every piece, unchoke btd, take its requests and
close without sending a byte. Each round leaves a piece whose every request was aborted. Before
the fix its buffer stayed counted against the memory budget; with big pieces and a budget of two
pieces, two such rounds filled it, no piece was opened again and a good seed arriving afterwards
got no request at all. Now the good libtorrent seed must bring the download to the end, byte
for byte, within a bound.

Needs BTD_BIN (ctest sets it).
"""

import os
import socket
import threading
import time
import unittest

import hostile_common  # noqa: F401  (puts the integration harness on the path)
from hostile_common import harness as H
import raw_peer as RP
from test_daemon_lifecycle import BtdDaemon

PIECE = 8 * H.MIB
SIZE = 64 * H.MIB  # 8 pieces
BUDGET_MIB = 16     # two pieces: the smallest budget btd accepts
ROUNDS = 8
PEERS_PER_ROUND = 5
DOWNLOAD_BOUND = 180  # seconds for 64 MiB over loopback, on a loaded 2-core machine


def bitfield_all(num_pieces):
    data = bytearray((num_pieces + 7) // 8)
    for p in range(num_pieces):
        data[p // 8] |= 0x80 >> (p % 8)
    return bytes(data)


def take_requests_and_leave(port, info_hash, num_pieces, source_ip, got):
    """One hostile peer: has everything, unchokes, waits for btd's requests, closes."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10,
                                        source_address=(source_ip, 0))
    except OSError:
        return
    peer = RP.RawPeer.__new__(RP.RawPeer)  # a RawPeer on our own (source-bound) socket
    peer.info_hash = bytes.fromhex(info_hash)
    peer.fast, peer.extensions = True, False
    peer.peer_id = RP.make_peer_id(b"-HS0001-")
    peer.timeout, peer.sock, peer._buf, peer.closed = 10.0, sock, bytearray(), False
    peer.remote_reserved = peer.remote_info_hash = peer.remote_peer_id = None
    try:
        peer.handshake()
        peer.send(RP.BITFIELD, bitfield_all(num_pieces))
        peer.send(RP.UNCHOKE)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if peer.recv(deadline - time.monotonic()).id == RP.REQUEST:
                got.append(1)
                break
    except (TimeoutError, RP.PeerClosed, OSError):
        pass
    finally:
        peer.close()


class BudgetStall(unittest.TestCase):
    def setUp(self):
        H.btd_binary()
        self._tmp = H.TempDir(prefix="btd-stall-")
        self.dir = self._tmp.__enter__()
        self.addCleanup(self._tmp.__exit__, None, None, None)

    def test_requests_aborted_by_leaving_peers_do_not_stall_the_download(self):
        src = os.path.join(self.dir, "src")
        H.make_payload(src, H.layout_single(SIZE, "big.bin"), seed=8)
        content = os.path.join(src, "big.bin")
        _, info_hash = H.make_torrent(content, [], PIECE, os.path.join(self.dir, "probe.torrent"))
        tracker = H.Tracker([info_hash]).__enter__()
        self.addCleanup(tracker.__exit__, None, None, None)
        torrent, tid = H.make_torrent(content, [tracker.http_url], PIECE,
                                      os.path.join(self.dir, "t.torrent"))
        num_pieces = SIZE // PIECE

        config = os.path.join(self.dir, "btd.conf")
        with open(config, "w") as f:
            f.write(f"memory_budget_mib = {BUDGET_MIB}\n")
        dl = os.path.join(self.dir, "download")
        os.makedirs(dl)
        daemon = BtdDaemon(os.path.join(self.dir, "state"), dl, config=config)
        self.addCleanup(daemon.stop)
        daemon.start()
        self.assertEqual(daemon.rpc("session.get")["memory_budget"], BUDGET_MIB * H.MIB)
        port = daemon.rpc("session.get")["listen_port"]
        daemon.add(torrent)
        daemon.wait_state(tid, "downloading", 60)

        # Distinct loopback sources, so a per-address connection limit does not hide the case.
        requested = []
        for r in range(ROUNDS):
            got = []
            threads = [threading.Thread(
                target=take_requests_and_leave,
                args=(port, tid, num_pieces, f"127.0.{r + 1}.{i + 1}", got), daemon=True)
                for i in range(PEERS_PER_ROUND)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            requested.append(len(got))
        H.log(f"hostile peers that got requests, per round: {requested}")
        # Each round finds the budget free again (main: [3, 0, 0, 0, 0, 0, 0, 0]).
        self.assertTrue(all(requested), "btd stopped requesting: the memory budget is held by "
                        f"pieces nobody fetches any more ({requested})")

        seed = H.LtPeer(torrent, src, mode="seed").start()
        self.addCleanup(seed.stop)
        seed.wait_ready(60)
        start = time.monotonic()
        status = daemon.wait_state(tid, "seeding", DOWNLOAD_BOUND)
        H.log(f"download finished {time.monotonic() - start:.1f}s after the good seed came")
        self.assertEqual(status["progress"], 1.0)
        H.compare_trees(content, os.path.join(dl, "big.bin"))


if __name__ == "__main__":
    unittest.main()
