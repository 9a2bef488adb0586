"""Helpers shared by the web tests: raw HTTP to btd's listener (cookies, Origin, CSRF headers
set by hand) and a small Server-Sent Events reader."""

import http.client
import json
import socket
import time


def request(address, method, path, headers=None, body=None, timeout=15):
    """One HTTP request; returns (status, headers dict with lower-case names, body bytes)."""
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def rpc(address, method, params=None, headers=None):
    """POST /rpc; returns (status, parsed JSON-RPC reply or None)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}})
    all_headers = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    status, _, data = request(address, "POST", "/rpc", all_headers, body.encode())
    try:
        return status, json.loads(data)
    except ValueError:
        return status, None


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def login(address, token):
    """POST /login; returns (cookie header value, csrf token, scope)."""
    status, headers, body = request(address, "POST", "/login", bearer(token))
    assert status == 200, (status, body)
    cookie = headers["set-cookie"].split(";")[0]
    reply = json.loads(body)
    return cookie, reply["csrf_token"], reply["scope"]


class SseClient:
    """GET /events on a raw socket; events() yields (id or None, type, data) as they come."""

    def __init__(self, address, headers=None, rcvbuf=None):
        host, port = address.rsplit(":", 1)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(30)
        self.sock.connect((host, int(port)))
        lines = [f"GET /events HTTP/1.1", f"Host: {address}", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buffer = b""
        self.status = None

    def read_head(self, timeout=15):
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buffer:
            if time.monotonic() > deadline:
                raise AssertionError("no response head from /events")
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        self.status = int(head.split(b" ")[1])
        return self.status

    def next_event(self, timeout=15):
        """The next complete event as (id, type, data), or None at timeout / end of stream."""
        if self.status is None:
            self.read_head(timeout)
        deadline = time.monotonic() + timeout
        while True:
            while b"\n\n" in self.buffer:
                block, _, self.buffer = self.buffer.partition(b"\n\n")
                event = self._parse(block.decode())
                if event:
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                return None
            self.buffer += chunk

    def wait_for(self, predicate, timeout):
        """Events until one matches; returns (match, every event seen)."""
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.next_event(max(0.1, deadline - time.monotonic()))
            if event is None:
                continue
            seen.append(event)
            if predicate(event):
                return event, seen
        raise AssertionError(f"no matching event in {timeout}s; saw {seen[-20:]}")

    @staticmethod
    def _parse(block):
        event_id, event_type, data = None, "message", []
        fields = False
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "id":
                event_id = int(value)
            elif name == "event":
                event_type = value
            elif name == "data":
                data.append(value)
            else:
                continue
            fields = True
        if not fields or not data:
            return None
        return event_id, event_type, json.loads("\n".join(data))

    def close(self):
        self.sock.close()
