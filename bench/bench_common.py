"""What bench_download.py and bench_seed.py share: the A/B pair of contenders, the payload and
its torrent, the alternating runs and the summary (medians, JSON)."""

import json
import os
import shutil
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import harness as H  # noqa: E402

GIB = 1024 * H.MIB
PAYLOAD_NAME = "bench.bin"


_DEFAULT_BTD_BIN = os.environ.get("BTD_BIN")


def contenders(text, flag):
    """"btd,libtorrent" -> (kinds, labels); labels tell two of the same kind apart.
    "btd@PATH" is btd built elsewhere (e.g. "btd@/tmp/before/daemon/btd,btd" compares two builds
    in one sitting)."""
    kinds = [k.strip() for k in text.split(",")]
    if len(kinds) != 2 or any(k not in ("btd", "libtorrent") and not k.startswith("btd@")
                              for k in kinds):
        raise SystemExit(f"{flag} takes two of btd|btd@PATH|libtorrent, e.g. btd,libtorrent")
    for k in kinds:
        if k != "libtorrent":
            select(k)
            H.btd_binary()  # fail early with a clear message
    bases = [select(k) for k in kinds]
    labels = [f"{k}#{i + 1}" for i, k in enumerate(bases)] if bases[0] == bases[1] else bases
    for k, label in zip(kinds, labels):
        if k.startswith("btd@"):
            print(f"{label} is {k[4:]}", flush=True)
    return kinds, labels


def select(kind):
    """The harness's kind for `kind`; points BTD_BIN at the build a "btd@PATH" names."""
    if kind == "libtorrent":
        return kind
    if kind.startswith("btd@"):
        os.environ["BTD_BIN"] = kind[4:]
    elif _DEFAULT_BTD_BIN is None:
        os.environ.pop("BTD_BIN", None)
    else:
        os.environ["BTD_BIN"] = _DEFAULT_BTD_BIN
    return "btd"


def make_payload(work, args, seed):
    """One file of args.size_mib MiB under work/src and a tracker-less torrent of it.
    Returns (src_dir, content path, SHA-1 of the content, torrent path, info-hash)."""
    src_dir = os.path.join(work, "src")
    t0 = time.monotonic()
    H.make_payload(src_dir, H.layout_single(args.size_mib * H.MIB, PAYLOAD_NAME), seed=seed)
    content = os.path.join(src_dir, PAYLOAD_NAME)
    expected_sha1 = H.sha1_file(content)
    torrent, info_hash = H.make_torrent(content, [], args.piece_kib * H.KIB,
                                        os.path.join(work, "base.torrent"))
    H.log(f"payload {args.size_mib} MiB, piece {args.piece_kib} KiB, ready in "
          f"{time.monotonic() - t0:.1f}s")
    return src_dir, content, expected_sha1, torrent, info_hash


def run_alternating(args, kinds, labels, run_one, fmt_row):
    """A, B, A, B, ... for args.runs rounds; run_one(kind) -> result dict. Returns the results
    per label."""
    results = {label: [] for label in labels}
    for run in range(args.runs):
        for kind, label in zip(kinds, labels):
            r = run_one(select(kind))
            results[label].append(r)
            print(fmt_row(f"run {run + 1} {label}", r), flush=True)
    return results


def summarize(args, labels, results, fmt_row):
    """Prints the medians; writes args.json if given. Returns the medians per label."""
    med = {label: {k: statistics.median(r[k] for r in rows) for k in rows[0]}
           for label, rows in results.items()}
    print(f"\nmedians over {args.runs} run(s), {args.size_mib} MiB, piece {args.piece_kib} KiB:")
    for label in labels:
        print(fmt_row(label, med[label]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"size_mib": args.size_mib, "piece_kib": args.piece_kib,
                       "runs": results, "medians": med}, f, indent=2)
    return med


def ratio(a, b):
    return a / max(b, 1e-9)


def add_common_args(ap, per):
    """The options both benchmarks take; `per` names what is run alternately."""
    ap.add_argument("--size-mib", type=int, default=1024, help="payload size (default 1024)")
    ap.add_argument("--runs", type=int, default=3, help=f"runs per {per} (default 3)")
    ap.add_argument("--piece-kib", type=int, default=1024, help="piece length (default 1024)")
    ap.add_argument("--timeout", type=float, default=600, help="per download, seconds")
    ap.add_argument("--workdir", default=None,
                    help="where payload and downloads go (default: a temp dir; needs ~2x size)")
    ap.add_argument("--json", default=None, help="also write the results to this file")


def check_download(dl_dir, size, expected_sha1, what):
    """Raises SystemExit unless dl_dir holds the payload exactly; then removes dl_dir."""
    path = os.path.join(dl_dir, PAYLOAD_NAME)
    got_size = os.path.getsize(path) if os.path.exists(path) else -1
    if got_size != size or H.sha1_file(path) != expected_sha1:
        raise SystemExit(f"{what}: wrong data at {path} (size {got_size}, want {size})")
    shutil.rmtree(dl_dir, ignore_errors=True)
