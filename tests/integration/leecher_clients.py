"""Leecher clients for bench/bench_seed_clients.py and test_seed_clients.py: each
downloads one torrent into an empty dir, on 127.0.0.1 only, with DHT, LSD, PeX, UPnP/NAT-PMP and
encryption off. `start()` launches the client (it announces to the torrent's tracker and
listens); `Running.wait_done()` returns the time.monotonic() instant it had the whole payload.
Clients that do not exit by themselves when done (Transmission, rtorrent, qBittorrent) are
watched (a finish hook or their web API) and stopped by `Running.stop()`.

The seeder is started after the leecher has announced, so it finds the leecher through the
tracker and connects to it: Transmission drops every 127.x address a tracker names ("martian",
libtransmission/net.c), so on loopback a Transmission leecher only gets incoming peers. The
same order is used for every client so the figures compare.

Each client runs with a fresh config dir under `work`, never the user's own.
"""

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
import uuid

import harness as H

POLL_S = 0.05


class ClientFailed(RuntimeError):
    pass


def _tail(path, n=3000):
    if not path or not os.path.exists(path):
        return ""
    with open(path, "rb") as f:
        return "\n" + f.read()[-n:].decode("utf-8", "replace")


def _spawn_logged(args, log_path, **kwargs):
    with open(log_path, "wb") as log:
        return H.spawn(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                       **kwargs)


class Running:
    """One client process downloading. `finished()` says whether it has everything (and raises
    if it failed); a client that exits when done counts as finished on exit code 0."""

    def __init__(self, name, proc, log_path, finished=None, seeder_ready=None):
        self.name, self.proc, self.log_path = name, proc, log_path
        self._finished = finished
        self._seeder_ready = seeder_ready

    def seeder_ready(self):
        """A client that does not take the seeder's connection gets the torrent now."""
        if self._seeder_ready:
            self._seeder_ready()

    def finished(self):
        rc = self.proc.poll()
        if self._finished is None:  # the client exits when it is done
            if rc is None:
                return False
            if rc != 0:
                raise ClientFailed(f"{self.name} exit {rc}" + _tail(self.log_path))
            return True
        if self._finished():
            return True
        if rc is not None:
            raise ClientFailed(f"{self.name} exited ({rc}) before finishing"
                               + _tail(self.log_path))
        return False

    def wait_done(self, timeout):
        """time.monotonic() when the download was seen complete (polled every 50 ms)."""
        deadline = time.monotonic() + timeout
        while not self.finished():
            if time.monotonic() > deadline:
                raise ClientFailed(f"{self.name}: not finished within {timeout:.0f} s"
                                   + _tail(self.log_path))
            time.sleep(POLL_S)
        return time.monotonic()

    def stop(self):
        H.kill_process(self.proc)


class Client:
    name = ""
    binary = ""
    install_hint = ""
    announces_first = True  # False: it announces only when the seeder is there

    def missing(self):
        """None if usable, else why not."""
        if self.binary and not shutil.which(self.binary):
            return f"{self.binary} not installed ({self.install_hint})"
        return None

    def start(self, torrent, dl_dir, work, timeout):
        """A Running client that has been launched (it may not have announced yet)."""
        raise NotImplementedError


class Libtorrent(Client):
    """lt_peer.py --mode leech: exits once every piece passed its hash check."""
    name = "libtorrent"
    install_hint = "apt-get install python3-libtorrent"

    def missing(self):
        try:
            import libtorrent  # noqa: F401
        except ImportError:
            return f"python3-libtorrent not importable ({self.install_hint})"
        return None

    def start(self, torrent, dl_dir, work, timeout):
        log = os.path.join(work, "libtorrent.log")
        args = H.leecher_command("libtorrent", torrent, dl_dir, H.free_port(), timeout=timeout)
        return Running(self.name, _spawn_logged(args, log), log)


class TransmissionCli(Client):
    """transmission-cli with a fresh config dir; its --finish script marks the end."""
    name = "transmission"
    binary = "transmission-cli"
    install_hint = "apt-get install transmission-cli"

    def start(self, torrent, dl_dir, work, timeout):
        conf = os.path.join(work, "transmission-conf")
        shutil.rmtree(conf, ignore_errors=True)
        os.makedirs(conf)
        port = H.free_port()
        with open(os.path.join(conf, "settings.json"), "w") as f:
            json.dump({"dht-enabled": False, "lpd-enabled": False, "pex-enabled": False,
                       "utp-enabled": False, "port-forwarding-enabled": False,
                       "encryption": 0, "bind-address-ipv4": "127.0.0.1",
                       "bind-address-ipv6": "::1", "peer-port": port,
                       "peer-port-random-on-start": False, "rpc-enabled": False,
                       "speed-limit-down-enabled": False, "speed-limit-up-enabled": False,
                       "ratio-limit-enabled": False, "download-queue-enabled": False,
                       "blocklist-enabled": False, "message-level": 1}, f)
        done_file = os.path.join(work, "transmission.done")
        if os.path.exists(done_file):
            os.remove(done_file)
        script = os.path.join(work, "transmission-finished.sh")
        with open(script, "w") as f:
            f.write(f"#!/bin/sh\ntouch '{done_file}'\n")
        os.chmod(script, 0o755)
        log = os.path.join(work, "transmission.log")
        proc = _spawn_logged([self.binary, "-g", conf, "-w", dl_dir, "-p", str(port), "-et",
                              "-M", "-D", "-U", "-f", script, torrent], log)
        return Running(self.name, proc, log, lambda: os.path.exists(done_file))


class Aria2(Client):
    """aria2c exits by itself once the download is complete (--seed-time=0)."""
    name = "aria2"
    binary = "aria2c"
    install_hint = "apt-get install aria2"

    def start(self, torrent, dl_dir, work, timeout):
        log = os.path.join(work, "aria2.log")
        args = [self.binary, "--dir", dl_dir, "--listen-port", str(H.free_port()),
                "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
                "--enable-peer-exchange=false", "--bt-require-crypto=false",
                "--disable-ipv6=true", "--seed-time=0", "--file-allocation=none",
                "--check-integrity=false", "--bt-hash-check-seed=false",
                "--summary-interval=0", "--console-log-level=warn", "--no-conf=true",
                "--max-overall-download-limit=0", "--max-overall-upload-limit=0",
                "--allow-overwrite=true", "--auto-file-renaming=false", torrent]
        return Running(self.name, _spawn_logged(args, log), log)


class Rtorrent(Client):
    """rtorrent in daemon mode (no terminal UI) from a config file in a temp dir; its
    event.download.finished hook marks the end."""
    name = "rtorrent"
    binary = "rtorrent"
    install_hint = "apt-get install rtorrent"

    def start(self, torrent, dl_dir, work, timeout):
        base = os.path.join(work, "rtorrent")
        shutil.rmtree(base, ignore_errors=True)
        session = os.path.join(base, "session")
        os.makedirs(session)
        done_file = os.path.join(base, "done")
        port = H.free_port()
        rc_path = os.path.join(base, "rtorrent.rc")
        with open(rc_path, "w") as f:
            f.write("\n".join([
                f"directory.default.set = {dl_dir}",
                f"session.path.set = {session}",
                f"network.port_range.set = {port}-{port}",
                "network.port_random.set = no",
                "network.bind_address.set = 127.0.0.1",
                "dht.mode.set = disable",
                "protocol.pex.set = no",
                "trackers.use_udp.set = no",
                "protocol.encryption.set = none",
                "pieces.hash.on_completion.set = no",
                "throttle.global_down.max_rate.set = 0",
                "throttle.global_up.max_rate.set = 0",
                "system.daemon.set = true",
                f'method.set_key = event.download.finished, bench_done, '
                f'"execute.nothrow = touch, {done_file}"',
                f"load.start = {torrent}",
                ""]))
        log = os.path.join(base, "rtorrent.log")
        proc = _spawn_logged([self.binary, "-n", "-o", f"import={rc_path}"], log,
                             env=dict(os.environ, HOME=base, TERM="dumb"))
        return Running(self.name, proc, log, lambda: os.path.exists(done_file))


class Qbittorrent(Client):
    """qbittorrent-nox with a temp profile (DHT, LSD, PeX, UPnP, encryption off), web UI on
    127.0.0.1 without login for localhost; the torrent is added and watched through its API."""
    name = "qbittorrent"
    binary = "qbittorrent-nox"
    install_hint = "apt-get install qbittorrent-nox"
    announces_first = False

    def _write_config(self, profile, port, webui_port, dl_dir):
        conf_dir = os.path.join(profile, "qBittorrent", "config")
        os.makedirs(conf_dir)
        with open(os.path.join(conf_dir, "qBittorrent.conf"), "w") as f:
            f.write("\n".join([
                "[LegalNotice]", "Accepted=true", "",
                "[BitTorrent]",
                "Session\\DHTEnabled=false", "Session\\LSDEnabled=false",
                "Session\\PeXEnabled=false", "Session\\Encryption=2",
                f"Session\\Port={port}", "Session\\Interface=lo",
                "Session\\InterfaceName=lo", "Session\\QueueingSystemEnabled=false",
                "Session\\BTProtocol=TCP", f"Session\\DefaultSavePath={dl_dir}", "",
                "[Preferences]",
                "Connection\\UPnP=false",
                "WebUI\\Address=127.0.0.1", f"WebUI\\Port={webui_port}",
                "WebUI\\LocalHostAuth=false", "WebUI\\HostHeaderValidation=false",
                "WebUI\\CSRFProtection=false", "WebUI\\UseUPnP=false",
                "Connection\\ResolvePeerCountries=false", ""]))

    @staticmethod
    def _api(webui_port, path, data=None, content_type=None):
        req = urllib.request.Request(f"http://127.0.0.1:{webui_port}/api/v2/{path}", data=data)
        if content_type:
            req.add_header("Content-Type", content_type)
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()

    def _add(self, webui_port, torrent, dl_dir):
        boundary = uuid.uuid4().hex
        with open(torrent, "rb") as f:
            body = f.read()
        parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"torrents\"; "
                 f"filename=\"x.torrent\"\r\nContent-Type: application/x-bittorrent\r\n\r\n"
                 .encode() + body + b"\r\n"]
        for key, value in (("savepath", dl_dir), ("paused", "false")):
            parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{key}\""
                         f"\r\n\r\n{value}\r\n".encode())
        data = b"".join(parts) + f"--{boundary}--\r\n".encode()
        reply = self._api(webui_port, "torrents/add", data,
                          f"multipart/form-data; boundary={boundary}")
        if reply.strip() != b"Ok.":
            raise ClientFailed(f"qbittorrent refused the torrent: {reply!r}")

    def _complete(self, webui_port):
        try:
            info = json.loads(self._api(webui_port, "torrents/info"))
        except (OSError, ValueError):
            return False
        return bool(info) and all(t.get("progress", 0) >= 1.0 for t in info)

    def start(self, torrent, dl_dir, work, timeout):
        profile = os.path.join(work, "qbittorrent")
        shutil.rmtree(profile, ignore_errors=True)
        port, webui_port = H.free_port(), H.free_port()
        self._write_config(profile, port, webui_port, dl_dir)
        log = os.path.join(work, "qbittorrent.log")
        proc = _spawn_logged([self.binary, f"--profile={profile}", f"--webui-port={webui_port}",
                              f"--torrenting-port={port}"], log,
                             env=dict(os.environ, HOME=profile))
        # Seen here: qBittorrent 4.5 took no incoming connection from the seeder on loopback,
        # and its "reannounce" kept to the tracker's minimum interval; so the torrent is added
        # once the seeder is there, and qBittorrent connects to it.
        running = Running(self.name, proc, log, lambda: self._complete(webui_port),
                          lambda: self._add(webui_port, torrent, dl_dir))
        try:
            H.wait_for_tcp(webui_port, timeout=min(timeout, 60), proc=proc)
        except Exception:
            running.stop()
            raise
        return running


class FirstData:
    """Watches a download dir from a thread: the time.monotonic() instant any file in it first
    holds data (allocated blocks), polled every 20 ms."""

    def __init__(self, root):
        self.root, self.at = root, None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _has_data(self):
        for dirpath, _, files in os.walk(self.root):
            for name in files:
                try:
                    if os.stat(os.path.join(dirpath, name)).st_blocks > 0:
                        return True
                except OSError:
                    pass
        return False

    def _run(self):
        while not self._stop.is_set():
            if self._has_data():
                self.at = time.monotonic()
                return
            self._stop.wait(0.02)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=2)


def download(client, torrent, dl_dir, work, tracker, info_hash, start_seeder, timeout):
    """The client starts and announces, then the seeder starts (start_seeder() returns it once
    it seeds) and finds the client through the tracker. Returns (seconds from the first data on
    the client's disk until it had everything, seeder); the caller stops the seeder.

    The clock starts at the first data, not at the seeder's start or its "ready" signal: the
    seeders check the payload at different speeds, and lt_peer says READY only after an
    announce made once it seeds, by which time a small torrent may be done already."""
    running = client.start(torrent, dl_dir, work, timeout)
    first = None
    try:
        deadline = time.monotonic() + 60
        while (client.announces_first and
               H.tracker_scrape(tracker, info_hash).get("incomplete", 0) < 1):
            running.finished()  # raises if the client died
            if time.monotonic() > deadline:
                raise ClientFailed(f"{client.name} did not announce within 60 s"
                                   + _tail(running.log_path))
            time.sleep(0.1)
        first = FirstData(dl_dir)
        seeder = start_seeder()
        try:
            running.seeder_ready()
            done = running.wait_done(timeout)
            first.stop()
            return done - (first.at if first.at is not None else done), seeder
        except BaseException:
            seeder.stop()
            raise
    finally:
        if first:
            first.stop()
        running.stop()


ALL = [Libtorrent(), TransmissionCli(), Aria2(), Rtorrent(), Qbittorrent()]
BY_NAME = {c.name: c for c in ALL}
