#!/usr/bin/python3
"""A libtorrent peer on 127.0.0.1, one per process, for btd's integration tests and benchmarks.

  lt_peer.py --torrent T --save-path DIR --port P --mode seed|leech
             [--corrupt-pieces N] [--upload-limit B/s] [--download-limit B/s] [--timeout S]

Prints one line per event on stdout:
  READY ...            (seed) seeding, and the tracker accepted an announce made after that
  CORRUPTED pieces=... (seed, --corrupt-pieces) the pieces whose bytes it now serves wrong
  CORRUPT_SENT piece=N (seed) a block of a corrupted piece went to a peer
  HASH_FAILED piece=N  (leech) a piece failed its hash check
  STATUS ... / FINAL ... periodic and last stats (up/down = payload bytes, peers)
  DONE ...             (leech) every piece verified and flushed; exit 0
Seeders run until SIGTERM/SIGINT. Leechers exit 2 on timeout, 1 on error.

Corrupt mode: the data is copied to a private dir, libtorrent checks the good copy, and only
then are bytes inside the chosen pieces overwritten in place. libtorrent never re-hashes what it
serves once it seeds (seed_mode, by contrast, verifies each piece lazily on first request), and
its mmap-based storage reads the modified page cache, so peers get the bad bytes.
"""

import argparse
import os
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


def make_session(port):
    mask = (lt.alert.category_t.error_notification | lt.alert.category_t.status_notification
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

    ses = make_session(args.port)
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
            ses.wait_for_alert(200)
            st = h.status()
            for a in ses.pop_alerts():
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
            if not args.quiet and now - last_status >= 0.5:
                last_status = now
                out(f"STATUS state={st.state} progress={st.progress:.4f} "
                    f"up={st.total_payload_upload} down={st.total_payload_download} "
                    f"peers={st.num_peers} phase={phase}")
        st = h.status()
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
