"""A minimal BitTorrent peer over a plain socket, for poking at btd's wire protocol in tests.

It speaks just enough (BEP 3 handshake and messages, BEP 6 Fast, BEP 10 extended messages) to
send well-formed and deliberately malformed traffic and to read exactly what comes back.
Every read has a timeout; nothing here retries or hides errors.
"""

import os
import socket
import struct
import time

PROTOCOL = b"\x13BitTorrent protocol"

# Message ids (BEP 3, BEP 6, BEP 10)
CHOKE, UNCHOKE, INTERESTED, NOT_INTERESTED, HAVE, BITFIELD, REQUEST, PIECE, CANCEL = range(9)
SUGGEST, HAVE_ALL, HAVE_NONE, REJECT, ALLOWED_FAST = 13, 14, 15, 16, 17
EXTENDED = 20

NAMES = {CHOKE: "choke", UNCHOKE: "unchoke", INTERESTED: "interested",
         NOT_INTERESTED: "not_interested", HAVE: "have", BITFIELD: "bitfield",
         REQUEST: "request", PIECE: "piece", CANCEL: "cancel", 9: "port", SUGGEST: "suggest",
         HAVE_ALL: "have_all", HAVE_NONE: "have_none", REJECT: "reject_request",
         ALLOWED_FAST: "allowed_fast", EXTENDED: "extended"}

BLOCK = 16 * 1024



def read_exact(conn, n):
    """n bytes from a blocking socket (for fake peers that serve accepted connections)."""
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data

class PeerClosed(Exception):
    """The remote side closed (or reset) the connection."""


class Message:
    def __init__(self, msg_id, payload):
        self.id, self.payload = msg_id, payload

    @property
    def name(self):
        return "keepalive" if self.id is None else NAMES.get(self.id, f"id{self.id}")

    def triple(self):
        """(index, begin, length) of a request/reject/cancel; (index, begin, len(data)) of a
        piece."""
        if self.id == PIECE:
            index, begin = struct.unpack(">II", self.payload[:8])
            return index, begin, len(self.payload) - 8
        return struct.unpack(">III", self.payload[:12])

    def __repr__(self):
        return f"<{self.name} {len(self.payload)} bytes>"


def reserved_bytes(fast=True, extensions=True):
    r = bytearray(8)
    if extensions:
        r[5] |= 0x10  # BEP 10
    if fast:
        r[7] |= 0x04  # BEP 6
    return bytes(r)


def make_peer_id(prefix=b"-RP0001-"):
    return prefix + os.urandom(20 - len(prefix))


class RawPeer:
    def __init__(self, port, info_hash, fast=True, extensions=True, peer_id=None,
                 host="127.0.0.1", timeout=10.0):
        self.info_hash = bytes.fromhex(info_hash) if isinstance(info_hash, str) else info_hash
        self.fast, self.extensions = fast, extensions
        self.peer_id = peer_id or make_peer_id()
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self._buf = bytearray()
        self.remote_reserved = self.remote_info_hash = self.remote_peer_id = None
        self.closed = False
        self.unchoked_by_remote = False  # the last choke/unchoke it sent was an unchoke

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- sending -------------------------------------------------------------------------------

    def send_raw(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as e:
            raise PeerClosed(str(e)) from e

    def send(self, msg_id, payload=b""):
        self.send_raw(struct.pack(">IB", len(payload) + 1, msg_id) + payload)

    def send_handshake(self):
        self.send_raw(PROTOCOL + reserved_bytes(self.fast, self.extensions) + self.info_hash
                      + self.peer_id)

    def handshake(self):
        """Sends ours, reads theirs; returns their peer id."""
        self.send_handshake()
        data = self.recv_exact(68)
        if data[:20] != PROTOCOL:
            raise AssertionError(f"bad handshake from peer: {data[:20]!r}")
        self.remote_reserved = data[20:28]
        self.remote_info_hash = data[28:48]
        self.remote_peer_id = data[48:68]
        return self.remote_peer_id

    @property
    def remote_fast(self):
        return bool(self.remote_reserved and self.remote_reserved[7] & 0x04)

    @property
    def remote_extensions(self):
        return bool(self.remote_reserved and self.remote_reserved[5] & 0x10)

    def interested(self):
        self.send(INTERESTED)

    def request(self, index, begin, length=BLOCK):
        self.send(REQUEST, struct.pack(">III", index, begin, length))

    def request_bytes(self, index, begin, length=BLOCK):
        """One request message as bytes, for sending many in one write."""
        return struct.pack(">IBIII", 13, REQUEST, index, begin, length)

    # -- receiving -----------------------------------------------------------------------------

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no data from peer in time")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(256 * 1024)
        except socket.timeout as e:
            raise TimeoutError("no data from peer in time") from e
        except (ConnectionResetError, ConnectionAbortedError) as e:
            raise PeerClosed(str(e)) from e
        if not chunk:
            raise PeerClosed("EOF")
        self._buf += chunk

    def recv_exact(self, n, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self._buf) < n:
            self._fill(deadline)
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def recv(self, timeout=None):
        """The next message (id None = keep-alive). Raises TimeoutError or PeerClosed."""
        timeout = timeout or self.timeout
        (length,) = struct.unpack(">I", self.recv_exact(4, timeout))
        if length == 0:
            return Message(None, b"")
        if length > 4 * 1024 * 1024:
            raise AssertionError(f"peer sent a {length}-byte message")
        body = self.recv_exact(length, timeout)
        if body[0] in (CHOKE, UNCHOKE):
            self.unchoked_by_remote = body[0] == UNCHOKE
        return Message(body[0], body[1:])

    def recv_all(self, duration):
        """Every message that arrives within `duration` seconds (stops early on close;
        self.closed tells)."""
        msgs = []
        deadline = time.monotonic() + duration
        self.closed = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return msgs
            try:
                msgs.append(self.recv(left))
            except TimeoutError:
                return msgs
            except PeerClosed:
                self.closed = True
                return msgs

    def recv_until(self, want_id, timeout=None):
        """Messages up to and including the first with id `want_id`."""
        msgs = []
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {NAMES.get(want_id, want_id)} within timeout; got "
                                   f"{[m.name for m in msgs]}")
            m = self.recv(left)
            msgs.append(m)
            if m.id == want_id:
                return msgs

    def wait_unchoked(self, timeout=None):
        """Returns once the remote unchokes us; at once if it already has (btd unchokes a peer
        at connect when it has a free upload slot, before `interested`)."""
        if not self.unchoked_by_remote:
            self.recv_until(UNCHOKE, timeout)

    def wait_closed(self, timeout):
        """True if the peer closes the connection within `timeout` s (messages are dropped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                self._fill(deadline)
                self._buf.clear()
            except TimeoutError:
                return False
            except PeerClosed:
                return True


def parse_allowed_fast(msgs):
    return {struct.unpack(">I", m.payload[:4])[0] for m in msgs if m.id == ALLOWED_FAST}
