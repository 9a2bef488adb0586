#!/usr/bin/python3
"""A libtorrent peer on 127.0.0.1, one per process, for btd's integration tests and benchmarks.

  lt_peer.py --torrent T --save-path DIR --port P --mode seed|leech
             [--corrupt-pieces N] [--upload-limit B/s] [--download-limit B/s] [--timeout S]
             [--status-interval S] [--peer-info] [--peer-log WORD,...]

Prints one line per event on stdout:
  READY ...            (seed) seeding, and the tracker accepted an announce made after that
  CORRUPTED pieces=... (seed, --corrupt-pieces) the pieces whose bytes it now serves wrong
  CORRUPT_SENT piece=N (seed) a block of a corrupted piece went to a peer
  HASH_FAILED piece=N  (leech) a piece failed its hash check
  STATUS ... / FINAL ... periodic and last stats (up/down = payload bytes, peers)
  DONE ...             (leech) every piece verified and flushed; exit 0
Optional extra lines (existing lines are unchanged by these options):
  PEER_SEEN {json}     (--peer-info) a peer seen for the first time after its handshake
                       (get_peer_info, polled every <=200 ms): pid (hex), endpoint, client,
                       seed, progress, supports_extensions, t (s since start)
  PEERS_JSON [json]    (--peer-info) just before FINAL: every peer met, by peer id, with the
                       payload bytes of the blocks received from (down) / sent to (up) it
                       (from block alerts; libtorrent skips one now and then, so these can
                       fall short by a block or two; FINAL's totals are exact)
  PEER_LOG msg         (--peer-log) libtorrent's peer log lines containing one of the words,
                       e.g. --peer-log HAVE_ALL,EXTENDED
Seeders run until SIGTERM/SIGINT. Leechers exit 2 on timeout, 1 on error.

Corrupt mode: the data is copied to a private dir, libtorrent checks the good copy, and only
then are bytes inside the chosen pieces overwritten in place. libtorrent never re-hashes what it
serves once it seeds (seed_mode, by contrast, verifies each piece lazily on first request), and
its mmap-based storage reads the modified page cache, so peers get the bad bytes.
"""

import argparse
import json
import os
import select
import shutil
import signal
import sys
import tempfile
import time

import libtorrent as lt

_stop = False


def _on_signal(signum, frame):
    global _stop
    _stop = True


def out(line):
    print(line, flush=True)


class AlertWaiter:
    """Sleeps until libtorrent has alerts to pop (or a timeout), through a pipe libtorrent
    writes to (session.set_alert_fd). Not session.wait_for_alert: its Python binding turns the
    returned alert pointer into an object, and libtorrent 2.0.8 may have freed that alert by
    then; the process dies of SIGSEGV in __dynamic_cast (seen: a core of a seeder that vanished
    mid-test in test_btctl_e2e)."""

    def __init__(self, ses):
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        ses.set_alert_fd(self._write)

    def wait(self, timeout):
        ready, _, _ = select.select([self._read], [], [], timeout)
        if ready:
            try:
                while os.read(self._read, 4096):
                    pass
            except BlockingIOError:
                pass


def make_session(port, extra_mask=0):
    mask = (extra_mask | lt.alert.category_t.error_notification | lt.alert.category_t.status_notification
            | lt.alert.category_t.tracker_notification | lt.alert.category_t.storage_notification
            | lt.alert.category_t.upload_notification)
    settings = {
        "listen_interfaces": f"127.0.0.1:{port}",
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        # Every peer is 127.0.0.1 on its own port.
        "allow_multiple_connections_per_ip": True,
        # Rate limits must apply on loopback too.
        "ignore_limits_on_local_network": False,
        # TCP only: what btd speaks; keeps the comparison fair.
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "announce_to_all_trackers": True,
        "announce_to_all_tiers": True,
        "stop_tracker_timeout": 1,
        "alert_mask": mask,
        "user_agent": "lt_peer/" + lt.__version__,
    }
    return lt.session(settings)


def corrupt_copy(info, src_root, n_pieces, dst_root):
    """Copies the torrent's files to dst_root; returns the piece indices that will be corrupted,
    chosen spread out over the torrent and skipping pieces made only of zero-length files."""
    files = info.files()
    for i in range(files.num_files()):
        rel = files.file_path(i)
        src, dst = os.path.join(src_root, rel), os.path.join(dst_root, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
    total = info.num_pieces()
    n = min(n_pieces, total)
    step = total / n
    return sorted({min(total - 1, int(i * step + step / 2)) for i in range(n)})


class PeerTracker:
    """Which peers this one met and how many payload bytes went each way, per peer id.

    Bytes are counted from block_finished / block_uploaded alerts (they name the peer), not from
    get_peer_info: libtorrent forgets a connection's counters when it closes, and a fast
    download can finish and disconnect between two polls."""

    def __init__(self, info):
        self.info = info
        self.start = time.monotonic()
        self.peers = {}  # pid hex -> dict

    def _row(self, pid_hex, endpoint):
        rec = self.peers.get(pid_hex)
        if rec is None:
            rec = {"pid": pid_hex, "endpoint": endpoint, "down": 0, "up": 0}
            self.peers[pid_hex] = rec
        return rec

    def _block_size(self, piece, block):
        return max(0, min(BLOCK, self.info.piece_size(piece) - block * BLOCK))

    def on_alert(self, a):
        if isinstance(a, (lt.block_finished_alert, lt.block_uploaded_alert)):
            rec = self._row(a.pid.to_bytes().hex(), f"{a.ip[0]}:{a.ip[1]}")
            key = "down" if isinstance(a, lt.block_finished_alert) else "up"
            rec[key] += self._block_size(a.piece_index, a.block_index)

    def poll(self, h):
        for p in h.get_peer_info():
            if p.flags & (lt.peer_info.connecting | lt.peer_info.handshake):
                continue
            rec = self._row(p.pid.to_bytes().hex(), f"{p.ip[0]}:{p.ip[1]}")
            client = p.client.decode("utf-8", "replace") if isinstance(p.client, bytes) \
                else p.client
            if "client" not in rec:
                rec.update({"client": client, "seed": bool(p.flags & lt.peer_info.seed),
                            "progress": p.progress,
                            "supports_extensions":
                                bool(p.flags & lt.peer_info.supports_extensions),
                            "t": round(time.monotonic() - self.start, 3)})
                out("PEER_SEEN " + json.dumps(rec))
            rec["client_last"] = client
            rec["progress_max"] = max(rec.get("progress_max", 0.0), p.progress)
            rec["seen_seed"] = rec.get("seen_seed", False) or bool(p.flags & lt.peer_info.seed)

    def summary(self):
        return list(self.peers.values())


BLOCK = 16 * 1024


def overwrite_pieces(info, root, pieces):
    """Flips bytes inside every 16 KiB block of each piece, in place (same inode), so any block
    of these pieces that this peer sends is wrong."""
    files = info.files()
    for p in pieces:
        size = info.piece_size(p)
        for block_start in range(0, size, BLOCK):
            offset_in_piece = min(size - 1, block_start + 1000)
            length = min(16, size - offset_in_piece)
            for sl in info.map_block(p, offset_in_piece, length):
                flip(os.path.join(root, files.file_path(sl.file_index)), sl.offset, sl.size)


def flip(path, offset, size):
    with open(path, "r+b") as f:
        f.seek(offset)
        data = f.read(size)
        f.seek(offset)
        f.write(bytes(b ^ 0xA5 for b in data))
        f.flush()
        os.fsync(f.fileno())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--torrent", required=True)
    ap.add_argument("--save-path", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", choices=["seed", "leech"], required=True)
    ap.add_argument("--corrupt-pieces", type=int, default=0)
    ap.add_argument("--upload-limit", type=int, default=0, help="bytes/s, 0 = none")
    ap.add_argument("--download-limit", type=int, default=0, help="bytes/s, 0 = none")
    ap.add_argument("--timeout", type=float, default=600, help="seconds (leech: fail after)")
    ap.add_argument("--quiet", action="store_true", help="no STATUS lines")
    ap.add_argument("--status-interval", type=float, default=0.5, help="seconds between STATUS")
    ap.add_argument("--peer-info", action="store_true", help="PEER_SEEN and PEERS_JSON lines")
    ap.add_argument("--peer-log", default="",
                    help="comma-separated words: print peer log lines containing them")
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    info = lt.torrent_info(args.torrent)
    save_path = os.path.abspath(args.save_path)
    tmp = None
    corrupted = []
    if args.corrupt_pieces:
        if args.mode != "seed":
            ap.error("--corrupt-pieces needs --mode seed")
        tmp = tempfile.mkdtemp(prefix="lt-corrupt-")
        corrupted = corrupt_copy(info, save_path, args.corrupt_pieces, tmp)
        save_path = tmp
    corrupted_set = set(corrupted)

    peer_log_words = [w for w in args.peer_log.split(",") if w]
    ses = make_session(args.port,
                       lt.alert.category_t.peer_log_notification if peer_log_words else 0)
    alerts = AlertWaiter(ses)
    if args.peer_info:
        mask = lt.alert.category_t.block_progress_notification
        if peer_log_words:
            mask |= lt.alert.category_t.peer_log_notification
        ses.apply_settings({"alert_mask": ses.get_settings()["alert_mask"] | mask,
                            "alert_queue_size": 1000000})
    peers = PeerTracker(info) if args.peer_info else None
    params = lt.add_torrent_params()
    params.ti = info
    params.save_path = save_path
    params.flags &= ~lt.torrent_flags.auto_managed
    params.flags &= ~lt.torrent_flags.paused
    h = ses.add_torrent(params)
    if args.upload_limit:
        h.set_upload_limit(args.upload_limit)
    if args.download_limit:
        h.set_download_limit(args.download_limit)

    deadline = time.monotonic() + args.timeout
    last_status = 0.0
    phase = "checking"  # seed: checking -> announcing -> ready; leech: checking -> flushing -> done
    hash_failures = 0
    rc = 0
    try:
        while not _stop:
            if args.mode == "leech" and time.monotonic() > deadline:
                out(f"ERROR timeout after {args.timeout}s")
                rc = 2
                break
            alerts.wait(0.2)
            st = h.status()
            for a in ses.pop_alerts():
                if peers is not None:
                    peers.on_alert(a)
                if isinstance(a, lt.hash_failed_alert):
                    hash_failures += 1
                    out(f"HASH_FAILED piece={a.piece_index}")
                elif isinstance(a, lt.block_uploaded_alert):
                    if a.piece_index in corrupted_set:
                        out(f"CORRUPT_SENT piece={a.piece_index} block={a.block_index}")
                elif isinstance(a, lt.tracker_reply_alert):
                    out(f"TRACKER_REPLY {a.message()}")
                    if phase == "announcing":
                        phase = "ready"
                        out(f"READY port={args.port} pieces={info.num_pieces()}")
                elif isinstance(a, (lt.tracker_error_alert, lt.tracker_warning_alert)):
                    out(f"TRACKER {type(a).__name__}: {a.message()}")
                elif isinstance(a, (lt.torrent_error_alert, lt.file_error_alert,
                                    lt.listen_failed_alert)):
                    out(f"ERROR {a.message()}")
                    rc = 1
                elif isinstance(a, lt.cache_flushed_alert) and phase == "flushing":
                    phase = "done"
                elif peer_log_words and isinstance(a, lt.peer_log_alert):
                    msg = a.message()
                    if any(w in msg for w in peer_log_words):
                        out("PEER_LOG " + msg.replace("\n", " "))
            if peers is not None:
                peers.poll(h)
            if rc:
                break
            if args.mode == "seed" and phase == "checking" and st.is_seeding:
                if corrupted:
                    overwrite_pieces(info, save_path, corrupted)
                    out("CORRUPTED pieces=" + ",".join(map(str, corrupted)))
                phase = "announcing"
                h.force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)
            if args.mode == "seed" and phase == "checking" and not st.is_seeding \
                    and st.state == lt.torrent_status.downloading:
                out(f"ERROR data at {save_path} did not pass the hash check "
                    f"({st.num_pieces}/{info.num_pieces()} pieces good)")
                rc = 1
                break
            if args.mode == "leech" and phase == "checking" and st.is_seeding:
                phase = "flushing"
                h.flush_cache()
            if phase == "done":
                out(f"DONE down={st.total_payload_download} hash_failures={hash_failures}")
                break
            now = time.monotonic()
            if not args.quiet and now - last_status >= args.status_interval:
                last_status = now
                out(f"STATUS state={st.state} progress={st.progress:.4f} "
                    f"up={st.total_payload_upload} down={st.total_payload_download} "
                    f"peers={st.num_peers} phase={phase}")
        st = h.status()
        if peers is not None:
            for a in ses.pop_alerts():
                peers.on_alert(a)
            out("PEERS_JSON " + json.dumps(peers.summary()))
        out(f"FINAL up={st.total_payload_upload} down={st.total_payload_download} "
            f"peers={st.num_peers} hash_failures={hash_failures} phase={phase}")
    finally:
        ses.pause()
        del h
        del ses
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
