#!/usr/bin/python3
"""A complete btd seeder announces itself with the Fast extension (BEP 6) and the extension
protocol (BEP 10).

1. A libtorrent leecher's own peer log: the first message after btd's handshake is HAVE_ALL
   (never a BITFIELD), btd's extended handshake names "btd 0.1.0" with reqq 2000, libtorrent
   lists the peer as a seed with progress 1.0, and the download is exact.
2. A raw socket: the handshake reply carries the Fast and extension bits and a -BD0100- peer id,
   and the first messages are HAVE_ALL and an extended handshake (ext id 0) with reqq and btd.
   Without the Fast bit, btd sends a BITFIELD with every piece (and clear spare bits) instead.
"""

import re
import unittest

import libtorrent as lt

import harness as H
import raw_peer as R

PEER_LOG = re.compile(r"\[(\d+\.\d+\.\d+\.\d+:\d+)\] (<==|==>) (\w+) \[ ?(.*?) ?\]$")
SIZE = 2 * H.MIB + 1000
PIECE = 256 * H.KIB
NUM_PIECES = -(-SIZE // PIECE)


def incoming_by_endpoint(leecher):
    """{endpoint: [(message name, details), ...]} of what the leecher received, in order, for
    connections whose peer id turned out to be btd's (libtorrent names the client 'BD ...')."""
    out = {}
    btd_endpoints = set()
    for line in leecher.lines_with("PEER_LOG"):
        m = PEER_LOG.search(line)
        if not m:
            continue
        ep, direction, name, details = m.groups()
        if "client: BD " in line:
            btd_endpoints.add(ep)
        if direction == "<==":
            out.setdefault(ep, []).append((name, details))
    return {ep: msgs for ep, msgs in out.items() if ep in btd_endpoints}


class FastExtension(unittest.TestCase):
    def test_libtorrent_sees_btd_as_fast_seed(self):
        with H.Swarm(H.layout_single(SIZE, "fast.bin"), "fast.bin") as sw, \
                H.BtdPeer(sw.torrent, sw.src_dir) as btd:
            btd.wait_seeding(60)
            H.wait_for_tracker_seeds(sw.tracker, sw.info_hash, 1)
            leecher = H.lt_leecher(sw.torrent, sw.dl_dir,
                                   extra_args=["--quiet", "--peer-log", "<=="])
            try:
                leecher.wait_for_line("DONE", H.LEECH_TIMEOUT)
            finally:
                leecher.stop()
            sw.check_download()

            conns = incoming_by_endpoint(leecher)
            self.assertTrue(conns, "no connection to btd in the leecher's peer log:\n"
                            + "\n".join(leecher.lines[-40:]))
            for ep, msgs in conns.items():
                names = [n for n, _ in msgs]
                H.log(f"{ep}: received {names[:16]}")
                self.assertNotIn("BITFIELD", names, f"{ep}: btd sent a bitfield to a Fast peer")
                ready = names.index("HANDSHAKE") if "HANDSHAKE" in names else -1
                after = [n for n in names[ready + 1:] if n not in ("HANDSHAKE", "EXTENSIONS")]
                self.assertTrue(after, f"{ep}: nothing received after the handshake")
                self.assertEqual(after[0], "HAVE_ALL", f"{ep}: first message after the "
                                 f"handshake should be HAVE_ALL: {names[:16]}")
                ext = [d for n, d in msgs if n == "EXTENDED_HANDSHAKE"]
                self.assertEqual(len(ext), 1, f"{ep}: expected one extended handshake: {names}")
                self.assertIn("'v': 'btd 0.1.0'", ext[0])
                self.assertIn("'reqq': 2000", ext[0])

            (peer,) = [p for p in leecher.json_lines("PEERS_JSON")[-1]
                       if bytes.fromhex(p["pid"]).startswith(b"-BD0100-")]
            # (HAVE_ALL being the first message is the "at once"; these are what libtorrent
            # concluded from it, polled every 200 ms.)
            self.assertTrue(peer["seen_seed"], f"libtorrent did not list btd as a seed: {peer}")
            self.assertEqual(peer["progress_max"], 1.0, f"btd's progress per libtorrent: {peer}")
            self.assertTrue(peer["supports_extensions"])
            self.assertEqual(peer["client_last"], "btd 0.1.0")
            self.assertGreaterEqual(peer["down"], SIZE)

    def test_raw_handshake_have_all_and_extended_handshake(self):
        with H.Swarm(H.layout_single(SIZE, "raw.bin"), "raw.bin") as sw, \
                H.BtdPeer(sw.torrent, sw.src_dir) as btd:
            btd.wait_seeding(60)
            with R.RawPeer(btd.port, sw.info_hash, fast=True, extensions=True) as peer:
                peer_id = peer.handshake()
                self.assertTrue(peer_id.startswith(b"-BD0100-"), peer_id)
                self.assertEqual(peer.remote_info_hash.hex(), sw.info_hash)
                self.assertTrue(peer.remote_fast, f"no Fast bit: {peer.remote_reserved.hex()}")
                self.assertTrue(peer.remote_extensions,
                                f"no extension-protocol bit: {peer.remote_reserved.hex()}")
                msgs = peer.recv_all(1.5)
                names = [m.name for m in msgs]
                H.log(f"after the handshake: {names}")
                self.assertFalse(peer.closed, f"btd closed the connection: {names}")
                self.assertTrue(msgs and msgs[0].id == R.HAVE_ALL, f"first is not have_all: "
                                f"{names}")
                self.assertNotIn("bitfield", names)
                ext = [m for m in msgs if m.id == R.EXTENDED]
                self.assertEqual(len(ext), 1, names)
                self.assertEqual(ext[0].payload[0], 0, "extended handshake must have ext id 0")
                body = ext[0].payload[1:]
                self.assertIn(b"reqq", body)
                self.assertIn(b"btd", body)
                decoded = lt.bdecode(body)
                self.assertEqual(decoded[b"v"], b"btd 0.1.0", decoded)
                self.assertEqual(decoded[b"reqq"], 2000, decoded)
                for index in R.parse_allowed_fast(msgs):
                    self.assertLess(index, NUM_PIECES, "allowed_fast for a piece that does not "
                                    "exist")

            with R.RawPeer(btd.port, sw.info_hash, fast=False, extensions=False) as peer:
                peer.handshake()
                msgs = peer.recv_all(1.0)
                names = [m.name for m in msgs]
                self.assertTrue(msgs and msgs[0].id == R.BITFIELD, f"no bitfield first: {names}")
                for bad in ("have_all", "allowed_fast", "extended", "reject_request"):
                    self.assertNotIn(bad, names, f"{bad} sent to a peer without the extension")
                bits = msgs[0].payload
                self.assertEqual(len(bits), -(-NUM_PIECES // 8))
                want = bytearray(b"\xff" * len(bits))
                if NUM_PIECES % 8:
                    want[-1] = (0xff << (8 - NUM_PIECES % 8)) & 0xff
                self.assertEqual(bits, bytes(want), "bitfield should have every piece and "
                                 "clear spare bits")
            self.assertTrue(btd.running(), btd.tail())


if __name__ == "__main__":
    unittest.main()
