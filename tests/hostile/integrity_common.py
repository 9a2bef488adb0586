"""Helpers for the integrity tests (issue 8 items 1, 2, 11): what btd claims against what is on
disk. A piece btd lists as had must hash right from the files as they are now."""
import hashlib
import os

import libtorrent as lt


class TorrentLayout:
    """Files (path relative to the download dir, length) and piece hashes of a v1 .torrent."""

    def __init__(self, torrent_path):
        info = lt.torrent_info(torrent_path)
        fs = info.files()
        self.piece_length = info.piece_length()
        self.num_pieces = info.num_pieces()
        self.total_size = fs.total_size()
        self.files = [(fs.file_path(i), fs.file_size(i)) for i in range(fs.num_files())]
        self.hashes = [bytes(info.hash_for_piece(p)) for p in range(self.num_pieces)]

    def piece_bytes(self, download_dir, piece):
        """The piece as the files hold it now; None where a file is missing or short."""
        start = piece * self.piece_length
        end = min(start + self.piece_length, self.total_size)
        out = bytearray()
        offset = 0
        for rel, size in self.files:
            lo, hi = max(start, offset), min(end, offset + size)
            if lo < hi:
                try:
                    with open(os.path.join(download_dir, rel), "rb") as f:
                        f.seek(lo - offset)
                        chunk = f.read(hi - lo)
                except OSError:
                    return None
                if len(chunk) != hi - lo:
                    return None
                out += chunk
            offset += size
        return bytes(out)

    def bad_claimed_pieces(self, download_dir, pieces):
        """Pieces marked '1' in `pieces` whose bytes on disk do not hash right."""
        bad = []
        for p, flag in enumerate(pieces):
            if flag != "1":
                continue
            data = self.piece_bytes(download_dir, p)
            if data is None or hashlib.sha1(data).digest() != self.hashes[p]:
                bad.append(p)
        return bad


def assert_claims_hold(test, daemon, torrent_id, layout, download_dir, when):
    """Fails the test if btd claims a piece (or seeding) that the disk does not back."""
    details = daemon.rpc("torrent.get", {"id": torrent_id})
    bad = layout.bad_claimed_pieces(download_dir, details["pieces"])
    test.assertEqual(bad, [], f"{when}: btd claims {len(bad)} piece(s) it does not have "
                              f"(state {details['state']}, progress {details['progress']:.3f}), "
                              f"first {bad[:10]}\n" + daemon.log()[-3000:])
    return details
