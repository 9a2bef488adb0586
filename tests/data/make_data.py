#!/usr/bin/python3
"""One-off generator for the .torrent fixtures used by tests/unit/metainfo.

Creates torrents with python3-libtorrent (real, independent software) and writes what libtorrent
says about each one next to it (<name>.expected.txt, key=value lines), so the unit tests can check
that our parser computes the same v1 info-hash, size and piece count.

Run from anywhere: /usr/bin/python3 tests/data/make_data.py
"""
import os
import random
import tempfile

import libtorrent as lt

HERE = os.path.dirname(os.path.abspath(__file__))


def write_content(root, files):
    rng = random.Random(1234)  # fixed seed: same content, same piece hashes every run
    for rel, size in files:
        full = os.path.join(root, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(bytes(rng.getrandbits(8) for _ in range(size)))


def make(name, files, piece_size, flags, private=False):
    with tempfile.TemporaryDirectory() as tmp:
        write_content(tmp, files)
        fs = lt.file_storage()
        lt.add_files(fs, os.path.join(tmp, name))
        ct = lt.create_torrent(fs, piece_size, flags=flags)
        ct.add_tracker("http://127.0.0.1:6969/announce", 0)
        ct.add_tracker("udp://127.0.0.1:6969/announce", 1)
        ct.set_creator("make_data.py")
        ct.set_priv(private)
        lt.set_piece_hashes(ct, tmp)
        data = lt.bencode(ct.generate())
    info = lt.torrent_info(data)
    storage = info.files()
    pad_files = sum(1 for i in range(storage.num_files()) 
                    if storage.file_flags(i) & lt.file_storage.flag_pad_file)
    with open(os.path.join(HERE, name + ".torrent"), "wb") as f:
        f.write(data)
    with open(os.path.join(HERE, name + ".expected.txt"), "w") as f:
        f.write("info_hash=%s\n" % info.info_hashes().v1)
        f.write("name=%s\n" % info.name())
        f.write("total_size=%d\n" % info.total_size())
        f.write("num_pieces=%d\n" % info.num_pieces())
        f.write("piece_length=%d\n" % info.piece_length())
        f.write("num_files=%d\n" % storage.num_files())
        f.write("pad_files=%d\n" % pad_files)
        f.write("private=%d\n" % (1 if info.priv() else 0))
    print(name, info.info_hashes().v1, "files:", storage.num_files(), "pad:", pad_files)


make("lt_single", [("lt_single", 40000)], 16384, lt.create_torrent.v1_only)
make("lt_multi_v1",
     [("lt_multi_v1/a.bin", 10000), ("lt_multi_v1/sub/b.bin", 30000),
      ("lt_multi_v1/sub/c.txt", 123)],
     16384, lt.create_torrent.v1_only, private=True)
# Hybrid v1+v2: libtorrent aligns files with BEP 47 pad files in the v1 'files' list.
make("lt_hybrid",
     [("lt_hybrid/x.bin", 20000), ("lt_hybrid/y.bin", 5000), ("lt_hybrid/z/w.bin", 17000)],
     16384, 0)
