#!/usr/bin/python3
"""A seeded file is truncated behind btd's back: the next upload read fails, and btd must put
the torrent in the `error` state with a message that names the file, send no bytes for that
request, stay up and keep answering RPC.

btd (the daemon) seeds an 8 MiB file from its own copy. A raw socket peer (raw_peer.py) gets
one correct block first (the upload path works), then the file is truncated to 0 bytes (root
ignores chmod, so no permission trick) and the peer asks for a block of another piece.
Torrent::serve_uploads turns the failed read into set_error("cannot read data to upload: ...").
"""

import json
import os
import shutil
import time
import unittest

import harness as H
import raw_peer as R
from test_daemon_lifecycle import BtdDaemon

PIECE = 256 * H.KIB
BLOCK = R.BLOCK


class SeedReadError(unittest.TestCase):
    def test_truncated_file_puts_torrent_in_error(self):
        size = 8 * H.MIB
        name = "readerr.bin"
        with H.Swarm(H.layout_single(size, name), name, piece_length=PIECE) as sw:
            data_dir = os.path.join(sw.dir, "data")
            os.makedirs(data_dir)
            path = os.path.join(data_dir, name)
            shutil.copyfile(sw.content, path)
            with open(sw.content, "rb") as f:
                source = f.read()
            state = os.path.join(sw.dir, "state")
            os.makedirs(state)
            d = BtdDaemon(state, data_dir)
            self.addCleanup(d.stop)
            d.start()
            tid = d.add(sw.torrent)["id"]
            d.wait_state(tid, "seeding", 60)
            port = d.rpc("session.get")["listen_port"]

            peer = R.RawPeer(port, sw.info_hash, fast=True)
            self.addCleanup(peer.close)
            peer.handshake()
            peer.recv_all(0.5)  # have_all, extended handshake, allowed_fast
            peer.interested()
            peer.wait_unchoked(timeout=15)
            peer.request(1, 0, BLOCK)
            got = peer.recv_until(R.PIECE, timeout=5)[-1]
            self.assertEqual(got.triple(), (1, 0, BLOCK))
            self.assertEqual(got.payload[8:], source[PIECE:PIECE + BLOCK])

            os.truncate(path, 0)
            peer.request(20, BLOCK, BLOCK)
            after = peer.recv_all(5)  # until btd closes, or 5 s
            pieces = [m.triple() for m in after if m.id == R.PIECE]
            self.assertEqual(pieces, [], "btd sent data for a block it could not read")

            deadline = time.monotonic() + 15
            st = d.status(tid)
            while st["state"] != "error" and time.monotonic() < deadline:
                self.assertIsNone(d.proc.poll(), "btd exited:\n" + d.log()[-3000:])
                time.sleep(0.2)
                st = d.status(tid)
            H.log(f"after the truncation: state {st['state']}, error {st.get('error')!r}; "
                  f"raw peer got {[m.name for m in after]}, closed={peer.closed}")
            self.assertEqual(st["state"], "error", f"{st}\n" + d.log()[-3000:])
            self.assertIn(path, st["error"])
            self.assertIn("cannot read", st["error"])

            # Still alive and answering: list, details, stats; the error is in the details too.
            self.assertIsNone(d.proc.poll())
            info = d.rpc("torrent.get", {"id": tid})
            self.assertEqual((info["state"], info["error"]), ("error", st["error"]))
            cli = H.run_btctl(["info", tid[:8], "--json"], state_dir=state)
            self.assertEqual(cli.returncode, 0, cli.stderr)
            shown = json.loads(cli.stdout)
            self.assertEqual((shown["state"], shown["error"]), ("error", st["error"]))
            d.rpc("session.stats")
            self.assertEqual([t["state"] for t in d.rpc("torrent.list")], ["error"])
            rc, _ = d.signal_and_wait()
            self.assertEqual(rc, 0, d.log()[-3000:])


if __name__ == "__main__":
    unittest.main()
