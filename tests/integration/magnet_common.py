"""Shared pieces of the magnet tests: an in-process libtorrent node on 127.0.0.1 (DHT, LSD,
UPnP and NAT-PMP off, as lt_peer.py sets them), a payload with its v1 .torrent, and btd jobs
watched over RPC."""

import os
import time

import harness as H
import lt_peer
import raw_peer


class LtNode:
    """One libtorrent session in this process; `seed()` or `leech_magnet()` one torrent."""

    def __init__(self, port=None):
        import libtorrent as lt
        self.lt = lt
        self.port = port or H.free_port()
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


def info_dict_of(torrent):
    """The bencoded info dictionary of a .torrent, byte for byte (what ut_metadata sends)."""
    import libtorrent as lt
    with open(torrent, "rb") as f:
        return lt.bencode(lt.bdecode(f.read())[b"info"])


class RawPeer:
    """A scripted peer on 127.0.0.1 (one listening socket, one thread per connection) that
    completes the BitTorrent handshake with the extension bit, then:
      ext_handshake=False: sends nothing more (keep_alive_every: only keep-alives);
      ext_handshake=True:  sends a BEP 10 handshake offering ut_metadata for `metadata` and
                           answers requests for the pieces in `serve` (others: silence).
    `closed` counts connections the other side closed."""

    UT_METADATA = 3  # our id for ut_metadata in the extension handshake

    def __init__(self, info_hash, ext_handshake=False, metadata=b"", serve=(),
                 keep_alive_every=None):
        import socket
        import threading
        self.info_hash = bytes.fromhex(info_hash)
        self.ext_handshake, self.metadata, self.serve = ext_handshake, metadata, set(serve)
        self.keep_alive_every = keep_alive_every
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connected = self.closed = 0
        self.stopping = False
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import threading
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _read(conn, n):
        return raw_peer.read_exact(conn, n)

    def _serve(self, conn):
        import struct
        try:
            self._read(conn, 68)
            reserved = bytearray(8)
            reserved[5] |= 0x10  # BEP 10
            conn.sendall(b"\x13BitTorrent protocol" + bytes(reserved) + self.info_hash +
                         b"-RP0001-" + os.urandom(6).hex()[:12].encode())
            with self.lock:
                self.connected += 1
            if self.ext_handshake:
                self._send_ext(conn, 0, {b"m": {b"ut_metadata": self.UT_METADATA},
                                         b"metadata_size": len(self.metadata)})
            conn.settimeout(self.keep_alive_every or 1.0)
            their_id = 0
            while not self.stopping:
                try:
                    length = struct.unpack(">I", self._read(conn, 4))[0]
                except TimeoutError:
                    if self.keep_alive_every:
                        conn.sendall(b"\0\0\0\0")
                    continue
                body = self._read(conn, length)
                if length >= 2 and body[0] == 20:
                    their_id = self._on_extended(conn, body[1], body[2:], their_id)
        except (EOFError, ConnectionError):
            with self.lock:
                self.closed += 1
        except OSError:
            pass
        finally:
            conn.close()

    def _on_extended(self, conn, ext_id, payload, their_id):
        import libtorrent as lt
        msg = lt.bdecode(payload)
        if ext_id == 0:
            return msg.get(b"m", {}).get(b"ut_metadata", 0)
        if ext_id == self.UT_METADATA and msg.get(b"msg_type") == 0 and their_id:
            piece = msg[b"piece"]
            if piece in self.serve:
                data = self.metadata[piece * 16384:(piece + 1) * 16384]
                self._send_ext(conn, their_id, {b"msg_type": 1, b"piece": piece,
                                                b"total_size": len(self.metadata)}, data)
        return their_id

    @staticmethod
    def _send_ext(conn, ext_id, message, tail=b""):
        import struct
        import libtorrent as lt
        body = bytes([20, ext_id]) + lt.bencode(message) + tail
        conn.sendall(struct.pack(">I", len(body)) + body)

    def close(self):
        self.stopping = True
        self.sock.close()
