"""Helpers for btd's integration tests and benchmarks.

Everything runs on 127.0.0.1: an opentracker, libtorrent peers (tests/integration/lt_peer.py, each
its own process) and the leecher under test (btd, or libtorrent when BTD_TEST_LEECHER=libtorrent).
Every wait is bounded and every child process is killed when the test ends, even if it fails.

Python 3 stdlib plus Debian's python3-libtorrent; run with /usr/bin/python3.
"""

import atexit
import ctypes
import getpass
import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
LT_PEER = os.path.join(HERE, "lt_peer.py")
PYTHON = "/usr/bin/python3"  # python3-libtorrent is built for Debian's interpreter only
OPENTRACKER = "/usr/bin/opentracker"

KIB = 1024
MIB = 1024 * KIB

# ---------------------------------------------------------------------------------------------
# Child processes: all registered here, all killed at exit.

_children = []
_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # Runs in the child between fork and exec: if the test runner is killed (ctest timeout),
    # the kernel sends SIGTERM to the child, so no peer or tracker outlives the test.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(args, **kwargs):
    """Popen that dies with this process and is killed at exit."""
    proc = subprocess.Popen(args, preexec_fn=_die_with_parent, **kwargs)
    _children.append(proc)
    return proc


def kill_process(proc, grace=5.0):
    """SIGTERM, wait up to `grace` seconds, then SIGKILL. Safe to call twice."""
    if proc is None or proc.returncode is not None:
        return
    try:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
    except (ProcessLookupError, ChildProcessError):
        pass


@atexit.register
def _kill_all_children():
    for proc in _children:
        kill_process(proc, grace=2.0)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Ports and temporary directories


def free_port(kind=socket.SOCK_STREAM):
    """A port that is free on 127.0.0.1 right now (TCP by default)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_tcp_udp_port():
    """A port free for both TCP and UDP on 127.0.0.1."""
    for _ in range(50):
        port = free_port()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no port free for both TCP and UDP on 127.0.0.1")


class TempDir:
    """Context manager for a temp dir that is removed on exit (set BTD_TEST_KEEP=1 to keep it)."""

    def __init__(self, prefix="btd-it-"):
        base = os.environ.get("BTD_TEST_TMPDIR")  # e.g. a disk-backed dir for the 1 GiB benchmark
        self.path = tempfile.mkdtemp(prefix=prefix, dir=base)

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        if os.environ.get("BTD_TEST_KEEP"):
            log(f"keeping {self.path}")
        else:
            shutil.rmtree(self.path, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Tracker


def wait_for_tcp(port, timeout, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing accepted connections on 127.0.0.1:{port} within {timeout}s")


class Tracker:
    """opentracker on 127.0.0.1 (HTTP and UDP on one port number).

    Debian's opentracker is built with an info-hash whitelist: without one it refuses every
    torrent ("Requested download is not authorized"). So the info-hashes must be known up front.
    It chroots into its -d dir (the whitelist path is relative to it) and drops root to `nobody`
    (it refuses to keep running as root), so the dir must be world-readable.
    """

    def __init__(self, info_hashes):
        self.info_hashes = list(info_hashes)
        self.port = None
        self.proc = None
        self._dir = None

    @property
    def http_url(self):
        return f"http://127.0.0.1:{self.port}/announce"

    @property
    def udp_url(self):
        return f"udp://127.0.0.1:{self.port}/announce"

    def __enter__(self):
        self._dir = tempfile.mkdtemp(prefix="btd-tracker-")
        os.chmod(self._dir, 0o755)
        whitelist = os.path.join(self._dir, "whitelist.txt")
        with open(whitelist, "w") as f:
            for ih in self.info_hashes:
                f.write(ih.lower() + "\n")
        os.chmod(whitelist, 0o644)
        # A port found free can be taken by a test running alongside before opentracker binds
        # it (opentracker then exits, and the port answers for the other test): try another.
        for attempt in range(3):
            self.port = free_tcp_udp_port()
            args = [OPENTRACKER, "-i", "127.0.0.1", "-p", str(self.port), "-P", str(self.port),
                    "-d", self._dir, "-w", "whitelist.txt"]
            if os.geteuid() == 0:
                # opentracker drops to `nobody`, which clears the parent-death signal; `timeout`
                # stays root, forwards SIGTERM to it, and bounds its lifetime anyway.
                args = ["timeout", "--kill-after=2", "3600"] + args
            else:
                args += ["-u", getpass.getuser()]
            self.proc = spawn(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_for_tcp(self.port, 10, self.proc)
                self._wait_for_whitelist(10)
                return self
            except Exception:
                kill_process(self.proc)
                if attempt == 2:
                    shutil.rmtree(self._dir, ignore_errors=True)
                    raise

    def _wait_for_whitelist(self, timeout):
        """opentracker reads its whitelist in a thread of its own after it starts listening: an
        announce right after the port opens can be refused ("not authorized"; a hostile test
        failed so). Announces a peer on port 1 until that is accepted (only `started` and
        regular announces are checked against the whitelist), then stops it at once, before any
        test peer can be given it; `stopped` leaves no peer and no `downloaded` count behind."""
        if not self.info_hashes:
            return
        query = "info_hash=" + "".join(f"%{b:02X}" for b in bytes.fromhex(self.info_hashes[0]))
        query += ("&peer_id=-WL0001-whitelisted1&port=1&uploaded=0&downloaded=0&left=0"
                  "&compact=1&numwant=0&event=")

        def announce(event):
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.sendall(f"GET /announce?{query}{event} HTTP/1.0\r\n\r\n".encode())
                reply = b""
                while chunk := s.recv(4096):
                    reply += chunk
            return b"interval" in reply and b"failure reason" not in reply

        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"opentracker exited with {self.proc.returncode}")
            try:
                if announce("started"):
                    announce("stopped")
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"opentracker on port {self.port} refused its whitelist's "
                                   f"info-hash for {timeout} s")
            time.sleep(0.02)

    def __exit__(self, *exc):
        kill_process(self.proc)
        shutil.rmtree(self._dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Payloads and torrents

# Layouts: list of (relative path, size). The multi-file one has nested folders, zero-length
# files, and (with a 32 KiB piece) many pieces that span file boundaries.
LAYOUT_MULTI = [
    ("a.bin", 300 * KIB + 17),
    ("empty-first.txt", 0),
    ("sub/b.bin", 1 * MIB + 3),
    ("sub/deeper/c.txt", 100),
    ("sub/deeper/empty.dat", 0),
    ("sub/deeper/d.bin", 2 * MIB + 12345),
    ("z/e.bin", 33 * KIB - 1),
    ("z/f.bin", 1),
]


def layout_single(size, name="payload.bin"):
    return [(name, size)]


class _Filler:
    """Deterministic pseudo-random bytes, fast even for GiBs: a 4 MiB random block from `seed`,
    rotated by a different odd offset for each 1 MiB chunk, so no two pieces are alike."""

    BLOCK = 4 * MIB
    CHUNK = 1 * MIB

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.block = self.rng.randbytes(self.BLOCK)
        self.doubled = self.block + self.block
        self.counter = 0

    def chunk(self, n):
        self.counter += 1
        start = (self.counter * 1_000_003) % self.BLOCK
        return self.doubled[start:start + n]

    def write_file(self, path, size):
        with open(path, "wb") as f:
            left = size
            while left > 0:
                n = min(left, self.CHUNK)
                f.write(self.chunk(n))
                left -= n


def make_payload(root, layout, seed=1):
    """Writes the files of `layout` under `root` (created). Returns `root`."""
    filler = _Filler(seed)
    os.makedirs(root, exist_ok=True)
    for rel, size in layout:
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        filler.write_file(path, size)
    return root


def make_torrent(content_path, trackers, piece_length=256 * KIB, out_path=None):
    """A v1-only .torrent for a file or folder. Returns (torrent path, info-hash hex).

    Trackers: a list of URLs; each gets its own tier. v1 only: libtorrent 2.0 makes hybrid
    v1+v2 torrents by default, which also pads files to piece boundaries.
    """
    import libtorrent as lt

    fs = lt.file_storage()
    lt.add_files(fs, content_path)
    if fs.num_files() == 0:
        raise ValueError(f"no files under {content_path}")
    ct = lt.create_torrent(fs, piece_length, flags=lt.create_torrent.v1_only)
    for tier, url in enumerate(trackers):
        ct.add_tracker(url, tier)
    ct.set_creator("btd integration tests")
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(content_path)))
    data = lt.bencode(ct.generate())
    out_path = out_path or os.path.abspath(content_path).rstrip("/") + ".torrent"
    with open(out_path, "wb") as f:
        f.write(data)
    info = lt.torrent_info(out_path)
    files = info.files()
    for i in range(files.num_files()):
        if files.file_flags(i) & lt.file_storage.flag_pad_file:
            raise AssertionError("libtorrent added pad files to the test torrent")
    return out_path, str(info.info_hash())


# ---------------------------------------------------------------------------------------------
# libtorrent peers (lt_peer.py in its own process)


class LtPeer:
    """A libtorrent peer process. Reads its stdout in a thread; `wait_ready()` for seeders."""

    def __init__(self, torrent, save_path, mode="seed", port=None, corrupt_pieces=0,
                 upload_limit=0, download_limit=0, timeout=600, extra_args=()):
        self.port = port or free_port()
        self.args = [PYTHON, LT_PEER, "--torrent", torrent, "--save-path", save_path,
                     "--port", str(self.port), "--mode", mode, "--timeout", str(timeout)]
        if corrupt_pieces:
            self.args += ["--corrupt-pieces", str(corrupt_pieces)]
        if upload_limit:
            self.args += ["--upload-limit", str(upload_limit)]
        if download_limit:
            self.args += ["--download-limit", str(download_limit)]
        self.args += list(extra_args)
        self.proc = None
        self.lines = []
        self.stamped = []  # (time.monotonic() when read, line), for rate measurements
        self._cond = threading.Condition()
        self._reader = None

    def start(self):
        self.proc = spawn(self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self):
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self.stamped.append((time.monotonic(), self.lines[-1]))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for_line(self, prefix, timeout):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    if line.startswith(prefix):
                        return line
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise RuntimeError(f"lt_peer exited ({self.proc.returncode}) before "
                                       f"'{prefix}':\n" + "\n".join(self.lines[-30:]))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"lt_peer: no '{prefix}' within {timeout}s:\n"
                                       + "\n".join(self.lines[-30:]))
                self._cond.wait(min(left, 0.5))

    def wait_ready(self, timeout=60):
        """A seeder is ready when it seeds and the tracker has accepted its announce."""
        return self.wait_for_line("READY", timeout)

    def stop(self):
        """SIGTERM (lt_peer prints a FINAL line); returns the parsed FINAL fields or {}."""
        kill_process(self.proc)
        if self._reader:
            self._reader.join(timeout=5)
        return self.final_stats()

    def final_stats(self):
        for line in reversed(self.lines):
            if line.startswith("FINAL"):
                return parse_fields(line)
        return {}

    def lines_with(self, prefix):
        return [line for line in self.lines if line.startswith(prefix)]

    def json_lines(self, prefix):
        """Parsed JSON payloads of the lines starting with `prefix` (e.g. PEER_SEEN)."""
        import json
        return [json.loads(line[len(prefix):]) for line in self.lines_with(prefix + " ")]

    def counter_rate(self, field, start, end):
        """Bytes/s of a STATUS counter (`up` or `down`) between two time.monotonic() instants,
        from the STATUS lines read in that window: (rate, seconds covered, bytes)."""
        with self._cond:
            points = [(t, int(parse_fields(line)[field])) for t, line in self.stamped
                      if start <= t <= end and line.startswith("STATUS")]
        if len(points) < 2:
            raise AssertionError(f"fewer than 2 STATUS lines between the instants ({points})")
        (t0, v0), (t1, v1) = points[0], points[-1]
        return (v1 - v0) / (t1 - t0), t1 - t0, v1 - v0

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def parse_fields(line):
    """'WORD a=1 b=x' -> {'a': '1', 'b': 'x'}"""
    out = {}
    for tok in line.split()[1:]:
        if "=" in tok:
            k, v = tok.split("=", 1)
            out[k] = v
    return out


# ---------------------------------------------------------------------------------------------
# The leecher under test


def leecher_kind():
    """'btd' (default) or 'libtorrent' (BTD_TEST_LEECHER=libtorrent, to check the harness)."""
    kind = os.environ.get("BTD_TEST_LEECHER", "btd").strip().lower()
    if kind not in ("btd", "libtorrent"):
        raise ValueError(f"BTD_TEST_LEECHER must be 'btd' or 'libtorrent', not '{kind}'")
    return kind


def btd_binary():
    path = os.environ.get("BTD_BIN") or os.path.join(REPO_ROOT, "build", "daemon", "btd")
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(
            f"btd binary not found at {path}: build it, or set BTD_BIN to its path "
            "(or BTD_TEST_LEECHER=libtorrent to check the harness with libtorrent as leecher)")
    return path


# Appended to every btd start by this harness (and by BtdDaemon): no test may resolve or contact
# the public DHT routers or multicast on the host's LAN. A test that exercises the DHT leaves
# --no-dht out and points btd at loopback nodes with --dht-bootstrap; one that exercises LSD
# leaves --no-lsd out and runs inside a network namespace it made.
NO_DISCOVERY_FLAGS = ["--no-dht", "--no-lsd"]


def leecher_command(kind, torrent, download_dir, port, log_level="info", timeout=600):
    if kind == "btd":
        return [btd_binary(), "--download", torrent, "--download-dir", download_dir,
                "--listen-port", str(port), "--log-level", log_level] + NO_DISCOVERY_FLAGS
    return [PYTHON, LT_PEER, "--torrent", torrent, "--save-path", download_dir, "--port",
            str(port), "--mode", "leech", "--timeout", str(timeout), "--quiet"]


class LeechResult:
    def __init__(self, rc, stderr, wall, rusage, peak_anon_kib=0):
        self.rc = rc
        self.stderr = stderr
        self.wall = wall            # seconds
        self.rusage = rusage        # resource.struct_rusage of the leecher process, or None
        # Peak anonymous (heap/stack) RSS, sampled every 50 ms. ru_maxrss also counts file pages
        # mapped into the process, which inflates mmap-based clients (libtorrent 2.0) by the
        # size of the data they touched.
        self.peak_anon_kib = peak_anon_kib

    @property
    def cpu(self):
        return self.rusage.ru_utime + self.rusage.ru_stime if self.rusage else float("nan")

    @property
    def max_rss_kib(self):
        return self.rusage.ru_maxrss if self.rusage else 0


def run_leecher(torrent, download_dir, timeout, kind=None, port=None, log_level=None):
    """Runs the leecher to completion (or kills it after `timeout` s). Returns a LeechResult.

    Uses wait4 on the child alone, so rusage is exactly the leecher's CPU and peak RSS.
    """
    kind = kind or leecher_kind()
    port = port or free_port()
    log_level = log_level or os.environ.get("BTD_TEST_LOG_LEVEL", "info")
    os.makedirs(download_dir, exist_ok=True)
    args = leecher_command(kind, torrent, download_dir, port, log_level, timeout)
    with tempfile.TemporaryFile(mode="w+b") as err:
        start = time.monotonic()
        proc = spawn(args, stdout=err, stderr=err, stdin=subprocess.DEVNULL)
        timed_out = threading.Event()

        def on_timeout():
            timed_out.set()
            try:
                proc.kill()
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, on_timeout)
        timer.start()
        sampler = _AnonRssSampler(proc.pid)
        try:
            _, status, rusage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            sampler.stop()
        wall = time.monotonic() - start
        rc = os.waitstatus_to_exitcode(status)
        proc.returncode = rc  # we reaped it ourselves; keep Popen consistent
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    if timed_out.is_set():
        text += f"\n[harness] leecher killed after {timeout}s timeout\n"
        rc = rc if rc != 0 else -9
    return LeechResult(rc, text, wall, rusage, sampler.peak_kib)


class _AnonRssSampler:
    """Polls RssAnon of /proc/PID/status in a thread; keeps the peak (KiB)."""

    def __init__(self, pid, interval=0.05):
        self.pid, self.interval, self.peak_kib = pid, interval, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        path = f"/proc/{self.pid}/status"
        while not self._done.is_set():
            try:
                with open(path) as f:
                    for line in f:
                        if line.startswith("RssAnon:"):
                            self.peak_kib = max(self.peak_kib, int(line.split()[1]))
                            break
            except (OSError, ValueError):
                pass
            self._done.wait(self.interval)

    def stop(self):
        self._done.set()
        self._thread.join(timeout=2)


def run_btd_download(torrent, download_dir, timeout, **kwargs):
    """(rc, stderr) of one foreground download with btd (or libtorrent, see leecher_kind)."""
    res = run_leecher(torrent, download_dir, timeout, **kwargs)
    return res.rc, res.stderr


# ---------------------------------------------------------------------------------------------
# Checking results


def _list_tree(root):
    """{relative path: size} of all files, plus the set of directories, below root."""
    files, dirs = {}, set()
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            dirs.add(os.path.relpath(os.path.join(dirpath, d), root))
        for f in filenames:
            p = os.path.join(dirpath, f)
            files[os.path.relpath(p, root)] = os.path.getsize(p)
    return files, dirs


def _first_difference(a, b, size):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        offset = 0
        while offset < size:
            ca, cb = fa.read(MIB), fb.read(MIB)
            if ca != cb:
                for i in range(min(len(ca), len(cb))):
                    if ca[i] != cb[i]:
                        return offset + i
                return offset + min(len(ca), len(cb))
            offset += len(ca)
    return None


def compare_trees(src, dst):
    """Raises AssertionError unless dst holds exactly src's files with exactly the same bytes.

    src/dst may be files (single-file torrent) or folders. Zero-length files must exist; extra
    files (pad files, leftovers) are errors.
    """
    if os.path.isfile(src):
        if not os.path.isfile(dst):
            raise AssertionError(f"missing downloaded file {dst}")
        pairs = {"": (src, dst)}
        extra = []
    else:
        if not os.path.isdir(dst):
            raise AssertionError(f"missing downloaded folder {dst}")
        src_files, _ = _list_tree(src)
        dst_files, _ = _list_tree(dst)
        missing = sorted(set(src_files) - set(dst_files))
        extra = sorted(set(dst_files) - set(src_files))
        if missing:
            raise AssertionError(f"files missing in {dst}: {missing}")
        pairs = {rel: (os.path.join(src, rel), os.path.join(dst, rel)) for rel in src_files}
    problems = []
    if extra:
        problems.append(f"unexpected extra files in {dst}: {extra}")
    for rel, (a, b) in sorted(pairs.items()):
        sa, sb = os.path.getsize(a), os.path.getsize(b)
        if sa != sb:
            problems.append(f"{rel or os.path.basename(a)}: size {sb}, expected {sa}")
            continue
        diff = _first_difference(a, b, sa)
        if diff is not None:
            problems.append(f"{rel or os.path.basename(a)}: bytes differ from offset {diff} "
                            f"(size {sa})")
    if problems:
        raise AssertionError("downloaded data differs from the source:\n  " + "\n  ".join(problems))


def assert_only_entry(download_dir, name):
    """The download dir holds only the torrent's own file/folder (no state or temp files)."""
    entries = sorted(os.listdir(download_dir))
    if entries != [name]:
        raise AssertionError(f"{download_dir} should contain only '{name}', has {entries}")


def sha1_file(path):
    h = hashlib.sha1()
    with open(path, "rb") as f:
        while chunk := f.read(4 * MIB):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# Test scaffolding shared by the test_*.py scripts

LEECH_TIMEOUT = float(os.environ.get("BTD_TEST_TIMEOUT", "90"))


class Swarm:
    """A payload, its torrent, a tracker, and seeders; torn down in reverse order on exit.

    with Swarm(layout, name, tracker="http"|"udp", piece_length) as sw:
        sw.add_seeder(...); sw.download() -> LeechResult; sw.check_download()
    """

    def __init__(self, layout, name, tracker="http", piece_length=256 * KIB, seed=1):
        self.layout, self.name, self.tracker_kind = layout, name, tracker
        self.piece_length, self.seed = piece_length, seed
        self.seeders = []

    def __enter__(self):
        if leecher_kind() == "btd":
            btd_binary()  # no binary: fail before building the swarm
        self._tmp = TempDir()
        self.dir = self._tmp.__enter__()
        try:
            self.src_dir = os.path.join(self.dir, "src")
            self.dl_dir = os.path.join(self.dir, "download")
            single = len(self.layout) == 1 and self.layout[0][0] == self.name
            make_payload(self.src_dir if single else os.path.join(self.src_dir, self.name),
                         self.layout, self.seed)
            self.content = os.path.join(self.src_dir, self.name)
            # The info-hash does not depend on the tracker list, so the whitelist can be
            # written before the tracker (and its port) exists.
            _, info_hash = make_torrent(self.content, [], self.piece_length,
                                        os.path.join(self.dir, "probe.torrent"))
            self.tracker = Tracker([info_hash]).__enter__()
            url = self.tracker.http_url if self.tracker_kind == "http" else self.tracker.udp_url
            self.torrent, self.info_hash = make_torrent(
                self.content, [url], self.piece_length, os.path.join(self.dir, "t.torrent"))
            assert self.info_hash == info_hash
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def add_seeder(self, **kwargs):
        peer = LtPeer(self.torrent, self.src_dir, mode="seed", **kwargs).start()
        self.seeders.append(peer)
        peer.wait_ready(60)
        return peer

    def download(self, timeout=LEECH_TIMEOUT):
        log(f"leecher ({leecher_kind()}) starts: {self.name}")
        res = run_leecher(self.torrent, self.dl_dir, timeout)
        log(f"leecher exited {res.rc} after {res.wall:.2f}s (cpu {res.cpu:.2f}s)")
        if res.rc != 0:
            raise AssertionError(f"leecher failed with exit code {res.rc}; its output:\n"
                                 + res.stderr[-6000:])
        return res

    def check_download(self):
        compare_trees(self.content, os.path.join(self.dl_dir, self.name))
        assert_only_entry(self.dl_dir, self.name)

    def stop_seeders(self):
        """Stops every seeder; returns their FINAL stats, in order."""
        return [peer.stop() for peer in self.seeders]

    def __exit__(self, *exc):
        for peer in self.seeders:
            peer.stop()
        if getattr(self, "tracker", None):
            self.tracker.__exit__(None, None, None)
        self._tmp.__exit__(None, None, None)


# ---------------------------------------------------------------------------------------------
# btd as a long-running peer (seeder, or a leecher that keeps seeding), and tracker scrapes


_limit_flags = {}


def btd_limit_flags(binary):
    """(upload flag, download flag) this btd accepts: --upload-rate-limit/--download-rate-limit
    when its --help names them, else --upload-limit/--download-limit (both take bytes/s)."""
    if binary not in _limit_flags:
        try:
            text = subprocess.run([binary, "--help"], capture_output=True, text=True,
                                  timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            text = ""
        if "--upload-rate-limit" in text:
            _limit_flags[binary] = ("--upload-rate-limit", "--download-rate-limit")
        else:
            _limit_flags[binary] = ("--upload-limit", "--download-limit")
    return _limit_flags[binary]


class BtdPeer:
    """btd in foreground mode as a peer that keeps running: `--seed` seeds after completing (or
    at once, after hash-checking complete data in `download_dir`) until stopped. Output (stderr
    and stdout) is read in a thread into `lines`."""

    SEEDING = "complete, seeding until stopped"

    def __init__(self, torrent, download_dir, port=None, seed=True, upload_limit=0,
                 download_limit=0, log_level=None, extra_args=()):
        self.port = port or free_port()
        self.download_dir = download_dir
        self.args = [btd_binary(), "--download", torrent, "--download-dir", download_dir,
                     "--listen-port", str(self.port), "--log-level",
                     log_level or os.environ.get("BTD_TEST_LOG_LEVEL", "info")]
        self.args += NO_DISCOVERY_FLAGS
        if seed:
            self.args.append("--seed")
        up_flag, down_flag = btd_limit_flags(self.args[0])
        if upload_limit:
            self.args += [up_flag, str(upload_limit)]
        if download_limit:
            self.args += [down_flag, str(download_limit)]
        self.args += list(extra_args)
        self.proc = None
        self.lines = []
        self._cond = threading.Condition()
        self._reader = None

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        os.makedirs(self.download_dir, exist_ok=True)
        self.proc = spawn(self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, text=True, errors="replace", bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self):
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_for_text(self, text, timeout):
        """The first output line containing `text`; raises if btd exits or time runs out."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise RuntimeError(f"btd exited ({self.proc.returncode}) before "
                                       f"'{text}':\n" + self.tail())
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"btd: no '{text}' within {timeout}s:\n" + self.tail())
                self._cond.wait(min(left, 0.5))

    def wait_seeding(self, timeout=60):
        return self.wait_for_text(self.SEEDING, timeout)

    def tail(self, n=40):
        with self._cond:
            return "\n".join(self.lines[-n:])

    def output(self):
        with self._cond:
            return "\n".join(self.lines)

    def stop(self, grace=10.0):
        """SIGTERM, wait; returns the exit code (negative: killed by that signal)."""
        kill_process(self.proc, grace)
        if self._reader:
            self._reader.join(timeout=5)
        return self.proc.returncode if self.proc else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def tracker_scrape(tracker, info_hash):
    """{'complete', 'incomplete', 'downloaded'} for one torrent from opentracker's /scrape."""
    import urllib.parse
    import urllib.request

    import libtorrent as lt

    url = (f"http://127.0.0.1:{tracker.port}/scrape?info_hash="
           + urllib.parse.quote_from_bytes(bytes.fromhex(info_hash)))
    with urllib.request.urlopen(url, timeout=5) as resp:
        body = resp.read()
    decoded = lt.bdecode(body) or {}
    files = decoded.get(b"files", {})
    entry = files.get(bytes.fromhex(info_hash), {})
    return {k.decode(): int(v) for k, v in entry.items() if isinstance(v, int)}


def wait_for_tracker_seeds(tracker, info_hash, seeds, timeout=30):
    """Waits until the tracker lists at least `seeds` complete peers (their announce arrived)."""
    deadline = time.monotonic() + timeout
    last = {}
    while time.monotonic() < deadline:
        try:
            last = tracker_scrape(tracker, info_hash)
            if last.get("complete", 0) >= seeds:
                return last
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"tracker has not seen {seeds} seed(s) within {timeout}s: {last}")


def proc_cpu_seconds(pid):
    """utime + stime of a running process, from /proc/PID/stat (its children not included)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status_kib(pid, key):
    """A 'kB' value (VmHWM, VmRSS, RssAnon, ...) from /proc/PID/status, or 0."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def btd_peer_bytes(lt_peer):
    """(bytes lt_peer downloaded from, uploaded to) peers whose peer id starts with '-BD',
    from its PEERS_JSON line (lt_peer.py --peer-info, after it finished or was stopped)."""
    rows = lt_peer.json_lines("PEERS_JSON")
    if not rows:
        raise AssertionError("lt_peer printed no PEERS_JSON line (started with --peer-info?)")
    btd = [p for p in rows[-1] if bytes.fromhex(p["pid"]).startswith(b"-BD")]
    return sum(p["down"] for p in btd), sum(p["up"] for p in btd)


def assert_all_from_btd(lt_peer, size):
    """lt_peer (a finished leecher) got its `size` bytes from btd peers only. Its per-peer
    counts come from block alerts, which libtorrent does not post for every block (a block
    now and then goes uncounted), so the total is checked with its FINAL counter."""
    rows = lt_peer.json_lines("PEERS_JSON")[-1]
    others = [p for p in rows if not bytes.fromhex(p["pid"]).startswith(b"-BD") and p["down"]]
    if others:
        raise AssertionError(f"the leecher also got data from non-btd peers: {others}")
    if not any(p["down"] for p in rows):
        raise AssertionError(f"the leecher got nothing from btd: {rows}")
    total = int(lt_peer.final_stats().get("down", 0))
    if total < size:
        raise AssertionError(f"the leecher downloaded {total} bytes, less than {size}")


def lt_leecher(torrent, save_path, peer_info=True, timeout=None, extra_args=(), **kwargs):
    """A started libtorrent leecher (lt_peer.py --mode leech); wait for it with
    `wait_for_line("DONE", t)`. --peer-info on by default so btd_peer_bytes() works."""
    args = list(extra_args) + (["--peer-info"] if peer_info else [])
    return LtPeer(torrent, save_path, mode="leech", timeout=timeout or LEECH_TIMEOUT,
                  extra_args=args, **kwargs).start()


# ---------------------------------------------------------------------------------------------
# btctl (the remote CLI) against a running daemon


def btctl_binary():
    path = os.environ.get("BTCTL_BIN") or os.path.join(REPO_ROOT, "build", "cli-remote", "btctl")
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"btctl binary not found at {path}: build it, or set BTCTL_BIN")
    return path


def run_btctl(args, state_dir=None, timeout=30):
    """Runs `btctl [--state-dir D] ARGS...`; returns the CompletedProcess (text stdout/stderr).

    The caller's BTD_STATE_DIR / BTD_RPC_TOKEN / XDG_STATE_HOME are not passed on, so btctl only
    ever finds the daemon the test names."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("BTD_STATE_DIR", "BTD_RPC_TOKEN", "XDG_STATE_HOME")}
    cmd = [btctl_binary()] + (["--state-dir", state_dir] if state_dir else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=env)
