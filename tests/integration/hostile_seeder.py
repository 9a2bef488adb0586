"""A hostile seeder on 127.0.0.1 for btd's integration tests: it claims every piece (full
bitfield), unchokes at once and answers every request with wrong bytes of the right length.

It keeps listening for its whole life and records every connection (accept time, close time,
who closed it, blocks sent), so a test can tell whether btd banned it and ever came back.
It announces itself to the tracker as a seed (`announce()`), so btd finds it there.
Python 3 stdlib only; every socket has a timeout; `close()` stops all threads.
"""

import socket
import struct
import threading
import time
import urllib.parse
import urllib.request

import raw_peer as R


class Connection:
    def __init__(self, remote):
        self.remote = remote
        self.accepted_at = time.monotonic()
        self.closed_at = None
        self.closed_by_remote = False  # EOF/reset from the other side (btd)
        self.handshake_ok = False
        self.peer_id = None  # from the remote's handshake
        self.blocks_sent = 0
        self.pieces = set()  # pieces with at least one (bad) block sent
        self.first_block_at = None


class HostileSeeder:
    def __init__(self, info_hash, num_pieces, piece_length, total_size, fill=b"\xee"):
        self.info_hash = bytes.fromhex(info_hash)
        self.num_pieces, self.piece_length, self.total_size = num_pieces, piece_length, total_size
        self.fill = fill
        self.peer_id = R.make_peer_id(b"-HS0001-")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self):
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def close(self):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        self.sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def snapshot(self, peer_id_prefix=None):
        """The connections so far; only those whose handshake carried a peer id starting with
        `peer_id_prefix` (e.g. b"-BD" for btd) when given. Other seeders in the swarm also
        dial this one (and drop it at once: seed to seed)."""
        with self._lock:
            conns = list(self.connections)
        if peer_id_prefix is None:
            return conns
        return [c for c in conns if c.peer_id and c.peer_id.startswith(peer_id_prefix)]

    def announce(self, tracker_port, event="started"):
        """HTTP announce as a seed (left=0); returns the raw bencoded reply."""
        q = urllib.parse.urlencode({"info_hash": self.info_hash, "peer_id": self.peer_id,
                                    "port": self.port, "uploaded": 0, "downloaded": 0,
                                    "left": 0, "event": event, "compact": 1, "numwant": 0},
                                   quote_via=urllib.parse.quote)  # opentracker reads no '+'
        url = f"http://127.0.0.1:{tracker_port}/announce?{q}"
        with urllib.request.urlopen(url, timeout=5) as resp:
            body = resp.read()
        if b"failure reason" in body:
            raise AssertionError(f"tracker refused the hostile seeder: {body!r}")
        return body

    # -- serving ---------------------------------------------------------------------------------

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            rec = Connection(addr)
            with self._lock:
                self.connections.append(rec)
            t = threading.Thread(target=self._serve, args=(conn, rec), daemon=True)
            t.start()
            self._threads.append(t)

    def dial(self, port, timeout=5):
        """Connects to a peer at 127.0.0.1:port (handshake first, then the same bad service).
        Returns the Connection record; the connection runs in a thread."""
        conn = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        rec = Connection(("127.0.0.1", port))
        with self._lock:
            self.connections.append(rec)
        t = threading.Thread(target=self._serve, args=(conn, rec, True), daemon=True)
        t.start()
        self._threads.append(t)
        return rec

    def _piece_size(self, index):
        return min(self.piece_length, self.total_size - index * self.piece_length)

    def _bitfield(self):
        bits = bytearray((self.num_pieces + 7) // 8)
        for i in range(self.num_pieces):
            bits[i // 8] |= 0x80 >> (i % 8)
        return bytes(bits)

    def _serve(self, conn, rec, outgoing=False):
        conn.settimeout(0.2)
        buf = bytearray()

        def fill(n):
            # Reads until buf holds n bytes; False when the remote closed or we stop.
            while len(buf) < n:
                if self._stop.is_set():
                    return False
                try:
                    chunk = conn.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    rec.closed_by_remote = True
                    return False
                if not chunk:
                    rec.closed_by_remote = True
                    return False
                buf.extend(chunk)
            return True

        def send(data):
            # sendall with a short timeout would give up on a slow reader; retry until stopped.
            view = memoryview(data)
            while view:
                if self._stop.is_set():
                    raise OSError("stopping")
                try:
                    view = view[conn.send(view):]
                except socket.timeout:
                    continue

        handshake = R.PROTOCOL + bytes(8) + self.info_hash + self.peer_id
        try:
            if outgoing:
                send(handshake)
            if not fill(68) or bytes(buf[28:48]) != self.info_hash:
                return
            rec.peer_id = bytes(buf[48:68])
            del buf[:68]
            rec.handshake_ok = True
            if not outgoing:
                send(handshake)
            bitfield = self._bitfield()
            send(struct.pack(">IB", len(bitfield) + 1, R.BITFIELD) + bitfield
                         + struct.pack(">IB", 1, R.UNCHOKE))
            while fill(4):
                (length,) = struct.unpack(">I", buf[:4])
                if length > 1 << 20 or not fill(4 + length):
                    return
                body = bytes(buf[4:4 + length])
                del buf[:4 + length]
                if length == 0 or body[0] != R.REQUEST:
                    continue
                index, begin, size = struct.unpack(">III", body[1:13])
                if index >= self.num_pieces or begin + size > self._piece_size(index):
                    continue
                send(struct.pack(">IBII", 9 + size, R.PIECE, index, begin)
                             + self.fill * size)
                rec.blocks_sent += 1
                rec.pieces.add(index)
                if rec.first_block_at is None:
                    rec.first_block_at = time.monotonic()
        except OSError:
            rec.closed_by_remote = not self._stop.is_set()
        finally:
            rec.closed_at = time.monotonic()
            conn.close()
