"""Fake peers for the hostile peer-list tests (issue 8, items 4-6), Python 3 stdlib only.

- announce(): registers any ip:port with opentracker as a seed, so btd learns it from there.
- ViolatorPeer: listens, answers each connection with a clean handshake, then breaks the
  protocol (a `have` with a 2-byte payload); records when each connection came.
- Forwarder: a TCP port forward to btd's own peer port (what a NAT or an external address
  handed out by a tracker looks like); records each connection.
- Flooder: keeps up to N handshaken connections from one source address (127.0.0.x), each
  with its own peer id, sending have_none and keep-alives; reconnects when btd closes one.

Every socket has a timeout, every thread stops on close().
"""

import os
import socket
import struct
import threading
import time
import urllib.parse
import urllib.request

import raw_peer as R


def announce(tracker_port, info_hash_hex, port, peer_id=None, left=0):
    """HTTP announce of 127.0.0.1:`port` as a seed; returns the raw reply."""
    q = urllib.parse.urlencode({"info_hash": bytes.fromhex(info_hash_hex),
                                "peer_id": peer_id or R.make_peer_id(b"-FK0001-"),
                                "port": port, "uploaded": 0, "downloaded": 0, "left": left,
                                "event": "started", "compact": 1, "numwant": 0},
                               quote_via=urllib.parse.quote)  # opentracker reads no '+'
    with urllib.request.urlopen(f"http://127.0.0.1:{tracker_port}/announce?{q}",
                                timeout=5) as resp:
        body = resp.read()
    if b"failure reason" in body:
        raise AssertionError(f"tracker refused the announce: {body!r}")
    return body


class _Server:
    """A listening socket on 127.0.0.1 with an accept thread; subclasses serve connections."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = []  # monotonic times of each accepted connection
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.threads = []

    def start(self):
        self._thread(self._accept_loop)
        return self

    def _thread(self, target, *args):
        t = threading.Thread(target=target, args=args, daemon=True)
        t.start()
        self.threads.append(t)

    def _accept_loop(self):
        while not self.stop_event.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.accepted.append(time.monotonic())
            self._thread(self.serve, conn)

    def times(self):
        with self.lock:
            return list(self.accepted)

    def close(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=5)
        self.sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


class ViolatorPeer(_Server):
    def __init__(self, info_hash_hex):
        super().__init__()
        self.info_hash = bytes.fromhex(info_hash_hex)
        self.peer_id = R.make_peer_id(b"-VP0001-")
        self.handshakes = 0  # clean handshakes completed (btd's came in, ours went out)

    def serve(self, conn):
        conn.settimeout(10)
        try:
            data = b""
            while len(data) < 68:
                chunk = conn.recv(68 - len(data))
                if not chunk:
                    return
                data += chunk
            if data[28:48] != self.info_hash:
                return
            conn.sendall(R.PROTOCOL + R.reserved_bytes() + self.info_hash + self.peer_id)
            with self.lock:
                self.handshakes += 1
            time.sleep(0.2)
            # `have` must carry a 4-byte piece index: a 2-byte one is malformed.
            conn.sendall(struct.pack(">IB", 3, R.HAVE) + b"\x00\x01")
            while not self.stop_event.is_set() and conn.recv(65536):
                pass
        except OSError:
            pass
        finally:
            conn.close()


class Forwarder(_Server):
    """127.0.0.1:self.port -> 127.0.0.1:target_port, both directions."""

    def __init__(self, target_port):
        super().__init__()
        self.target_port = target_port

    def serve(self, conn):
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
        except OSError:
            conn.close()
            return
        back = threading.Thread(target=self._pump, args=(conn, upstream), daemon=True)
        back.start()
        self._pump(upstream, conn)
        back.join(timeout=5)
        conn.close()
        upstream.close()

    def _pump(self, src, dst):
        src.settimeout(0.2)
        try:
            while not self.stop_event.is_set():
                try:
                    chunk = src.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class Flooder:
    """Up to `count` connections from `source` to 127.0.0.1:`port`, each with its own peer id:
    handshake, have_none, then keep-alives. A connection btd refuses or closes is retried after
    `retry_s`. `open_now()` / `max_open()` tell how many btd accepted (answered the handshake)."""

    def __init__(self, port, info_hash_hex, source, count, retry_s=0.5, max_attempts=4000):
        self.port, self.source, self.count = port, source, count
        self.info_hash = bytes.fromhex(info_hash_hex)
        self.retry_s, self.max_attempts = retry_s, max_attempts
        self.attempts = 0
        self._open = 0
        self._max_open = 0
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.threads = []

    def start(self):
        for _ in range(self.count):
            t = threading.Thread(target=self._slot, daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def open_now(self):
        with self.lock:
            return self._open

    def max_open(self):
        with self.lock:
            return self._max_open

    def _slot(self):
        while not self.stop_event.is_set():
            with self.lock:
                if self.attempts >= self.max_attempts:
                    return
                self.attempts += 1
            self._one_connection()
            self.stop_event.wait(self.retry_s)

    def _one_connection(self):
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5,
                                            source_address=(self.source, 0))
        except OSError:
            return
        counted = False
        try:
            sock.sendall(R.PROTOCOL + R.reserved_bytes() + self.info_hash
                         + R.make_peer_id(b"-FL0001-"))
            data = b""
            while len(data) < 68:
                chunk = sock.recv(68 - len(data))
                if not chunk:
                    return  # refused: btd closed without answering
                data += chunk
            with self.lock:
                self._open += 1
                self._max_open = max(self._max_open, self._open)
            counted = True
            sock.sendall(struct.pack(">IB", 1, R.HAVE_NONE))
            sock.settimeout(0.5)
            last_keepalive = time.monotonic()
            while not self.stop_event.is_set():
                try:
                    if not sock.recv(65536):
                        return
                except socket.timeout:
                    pass
                if time.monotonic() - last_keepalive > 30:
                    sock.sendall(b"\0\0\0\0")
                    last_keepalive = time.monotonic()
        except OSError:
            pass
        finally:
            if counted:
                with self.lock:
                    self._open -= 1
            sock.close()

    def close(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
