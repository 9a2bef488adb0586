#!/usr/bin/python3
"""Writes the seed corpora of tests/fuzz/corpus/<target>/ (small valid and near-valid inputs).

Run it again after changing a format; it rewrites only the seed_* files, so regression inputs
(crash-*, regress-*) added by hand stay. Uses only the standard library and tests/data.
"""
import base64
import json
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE.parent / "data"
CORPUS = HERE / "corpus"
SINGLE_HASH = "0dd3ba470adb6e6c0831ecc2f49b5d132296cb28"  # tests/data/lt_single.torrent


def bencode(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, x) for k, x in v.items())
        return b"d" + b"".join(bencode(k) + bencode(x) for k, x in items) + b"e"
    raise TypeError(v)


def torrents():
    return {p.stem: p.read_bytes() for p in sorted(DATA.glob("*.torrent"))}


def info_dict(files=None, name="x", length=5, piece_length=16384, **extra):
    info = {"name": name, "piece length": piece_length, "pieces": b"\x11" * 20}
    if files is None:
        info["length"] = length
    else:
        info["files"] = files
    info.update(extra)
    return info


def seeds_bencode():
    s = {
        "int": b"i42e", "negative": b"i-7e", "string": b"4:spam", "empty_string": b"0:",
        "list": b"l4:spami42ee", "dict": b"d3:cow3:moo4:spam4:eggse", "nested": b"lld1:ai1eeee",
        "leading_zero": b"i03e", "minus_zero": b"i-0e", "unsorted_keys": b"d1:b0:1:a0:e",
        "short_string": b"5:abc", "trailing": b"i1ei2e", "huge_length": b"99999999999:x",
        "int_overflow": b"i99999999999999999999e", "unterminated": b"l4:spam",
    }
    s.update(torrents())
    return s


def seeds_metainfo():
    s = dict(torrents())
    s["single_minimal"] = bencode({"info": info_dict()})
    s["multi_dotdot"] = bencode({"info": info_dict(files=[{"length": 1, "path": ["..", "a"]}])})
    s["multi_pad"] = bencode({"announce": "http://127.0.0.1:1/announce", "info": info_dict(
        files=[{"length": 3, "path": ["a"]}, {"length": 16381, "path": [".pad", "16381"], "attr": "p"},
               {"length": 2, "path": ["b"]}], piece_length=16384, pieces=b"\x22" * 40)})
    s["announce_list"] = bencode({"announce-list": [["http://127.0.0.1:1/a"], ["udp://127.0.0.1:2"]],
                                  "info": info_dict(private=1)})
    s["zero_piece_length"] = bencode({"info": info_dict(piece_length=0)})
    s["pieces_short"] = bencode({"info": info_dict(pieces=b"\x11" * 19)})
    s["duplicate_paths"] = bencode({"info": info_dict(
        files=[{"length": 1, "path": ["a"]}, {"length": 1, "path": ["a"]}])})
    return s


def seeds_tracker_http():
    peer4 = bytes([127, 0, 0, 1]) + struct.pack(">H", 6881)
    peer6 = bytes(15) + b"\x01" + struct.pack(">H", 6882)
    h = bytes.fromhex(SINGLE_HASH)
    return {
        "compact": bencode({"interval": 1800, "min interval": 60, "complete": 3, "incomplete": 1,
                            "peers": peer4 * 2, "peers6": peer6}),
        "dict_peers": bencode({"interval": 900, "tracker id": "abc", "warning message": "hi",
                               "peers": [{"ip": "127.0.0.2", "port": 6881, "peer id": "x" * 20},
                                         {"ip": "::1", "port": 1}]}),
        "failure": bencode({"failure reason": "not registered"}),
        "bad_peer_entry": bencode({"interval": 60, "peers": [{"ip": "127.0.0.1"}, {"ip": "127.0.0.2",
                                                                                  "port": 80}]}),
        "compact_odd_length": bencode({"interval": 60, "peers": peer4[:5]}),
        "port_zero": bencode({"interval": 60, "peers": bytes([127, 0, 0, 1, 0, 0])}),
        "negative_interval": bencode({"interval": -5, "peers": b""}),
        "scrape": bencode({"files": {h: {"complete": 5, "incomplete": 2, "downloaded": 9}}}),
        "scrape_other": bencode({"files": {b"\x00" * 20: {"complete": 1}}}),
        "not_bencode": b"<html>502 Bad Gateway</html>",
    }


def seeds_tracker_udp():
    tid = 0x12345678
    peer4 = bytes([127, 0, 0, 1]) + struct.pack(">H", 6881)
    peer6 = bytes(15) + b"\x01" + struct.pack(">H", 6881)
    return {
        "connect": struct.pack(">IIQ", 0, tid, 0x0123456789ABCDEF),
        "announce_v4": struct.pack(">IIIII", 1, tid, 1800, 2, 5) + peer4 * 3,
        "announce_v6": struct.pack(">IIIII", 1, tid, 60, 0, 1) + peer6,
        "announce_trailing": struct.pack(">IIIII", 1, tid, 1800, 2, 5) + peer4[:4],
        "scrape_one": struct.pack(">II", 2, tid) + struct.pack(">III", 5, 10, 2),
        "scrape_two": struct.pack(">II", 2, tid) + struct.pack(">III", 5, 10, 2) * 2,
        "error": struct.pack(">II", 3, tid) + b"torrent not registered",
        "short": struct.pack(">I", 1),
    }


def wire_frame(msg_id, payload=b""):
    body = bytes([msg_id]) + payload
    return struct.pack(">I", len(body)) + body


def handshake(reserved=bytes([0, 0, 0, 0, 0, 0x10, 0, 0x04])):
    return (bytes([19]) + b"BitTorrent protocol" + reserved + bytes.fromhex(SINGLE_HASH) +
            b"-LT2000-abcdefghijkl")


def seeds_peer_wire():
    ext = bencode({"m": {"ut_metadata": 2, "ut_pex": 1}, "p": 6881, "v": "libtorrent 2", "reqq": 500})
    return {
        "handshake_only": handshake(),
        "session": handshake() + wire_frame(20, b"\x00" + ext) + wire_frame(5, b"\xe0") +
        wire_frame(1) + wire_frame(4, struct.pack(">I", 2)) + b"\x00\x00\x00\x00" +
        wire_frame(7, struct.pack(">II", 0, 0) + b"data") +
        wire_frame(6, struct.pack(">III", 1, 0, 16384)) + wire_frame(9, struct.pack(">H", 6881)),
        "fast": handshake() + wire_frame(14) + wire_frame(15) + wire_frame(13, struct.pack(">I", 1)) +
        wire_frame(17, struct.pack(">I", 0)) + wire_frame(16, struct.pack(">III", 0, 0, 16384)) +
        wire_frame(8, struct.pack(">III", 0, 0, 16384)),
        "bad_protocol": b"\x13BitTorrent protocoX" + handshake()[20:],
        "unknown_message": handshake() + wire_frame(99),
        "wrong_size_have": handshake() + wire_frame(4, b"\x00"),
        "huge_length": handshake() + b"\xff\xff\xff\xff\x07",
        "split_frame": handshake() + wire_frame(7, struct.pack(">II", 0, 0) + b"x" * 20)[:-5],
    }


def seeds_extension_handshake():
    return {
        "libtorrent": bencode({"m": {"ut_metadata": 2, "ut_pex": 1}, "p": 6881, "v": "libtorrent",
                               "reqq": 500, "metadata_size": 1234, "yourip": b"\x7f\x00\x00\x01"}),
        "empty": b"de",
        "bad_types": bencode({"m": {"a": "x", "b": -1, "c": 300}, "p": 70000, "v": 5, "reqq": -1}),
        "not_dict": b"li1ee",
        "deep": b"d1:m" + b"l" * 20 + b"e" * 20 + b"e",
    }


def rpc(method, params=None, rid=1):
    r = {"jsonrpc": "2.0", "method": method, "id": rid}
    if params is not None:
        r["params"] = params
    return json.dumps(r).encode()


def seeds_rpc():
    single = base64.b64encode((DATA / "lt_single.torrent").read_bytes()).decode()
    multi = base64.b64encode((DATA / "lt_multi_v1.torrent").read_bytes()).decode()
    return {
        "list": rpc("torrent.list"),
        "add_get_remove": b"[" + b",".join([
            rpc("torrent.add", {"metainfo": single, "file_priorities": [1], "sequential": True}, 1),
            rpc("torrent.get", {"id": SINGLE_HASH}, 2),
            rpc("torrent.set", {"ids": [SINGLE_HASH[:8]], "download_rate_limit": 1024,
                                "ratio_limit": 1.5}, 3),
            rpc("torrent.verify", {"ids": [SINGLE_HASH]}, 4),
            rpc("torrent.pause", {"all": True}, 5),
            rpc("torrent.remove", {"ids": [SINGLE_HASH], "delete_data": True}, 6)]) + b"]",
        "add_multi": rpc("torrent.add", {"metainfo": multi, "paused": True}),
        "add_bad_base64": rpc("torrent.add", {"metainfo": "!!!"}),
        "session": b"[" + rpc("session.get", None, 1) + b"," + rpc("session.stats", {}, 2) + b"," +
        rpc("session.set", {"download_rate_limit": 1000, "max_connections": 50, "ratio_limit": 2,
                            "seed_idle_limit": 60}, 3) + b"]",
        "version": rpc("daemon.version", {}, "a"),
        "notification": json.dumps({"jsonrpc": "2.0", "method": "torrent.list"}).encode(),
        "method_not_string": b'{"jsonrpc":"2.0","method":1,"params":"bar"}',
        "empty_batch": b"[]",
        "batch_of_junk": b"[1,2,null]",
        "not_json": b'{"jsonrpc":"2.0","method":"torrent.list","id":1',
        "deep": b"[" * 70 + b"]" * 70,
        "unknown_method": rpc("torrent.frobnicate", {}, None),
        "unknown_param": rpc("torrent.get", {"id": SINGLE_HASH, "x": 1}),
        "resume": rpc("torrent.resume", {"all": True}),
        "shutdown": rpc("daemon.shutdown"),
    }


def tr(method, arguments=None, tag=None):
    r = {"method": method}
    if arguments is not None:
        r["arguments"] = arguments
    if tag is not None:
        r["tag"] = tag
    return json.dumps(r).encode()


def seeds_transmission():
    """Transmission RPC bodies, one per line (fuzz_transmission handles up to 8 in order)."""
    single = base64.b64encode((DATA / "lt_single.torrent").read_bytes()).decode()
    multi = base64.b64encode((DATA / "lt_multi_v1.torrent").read_bytes()).decode()
    lines = lambda *bodies: b"\n".join(bodies)
    fields = ["id", "name", "status", "percentDone", "rateDownload", "rateUpload", "files",
              "fileStats", "peers", "trackers", "trackerStats", "labels", "hashString", "error",
              "errorString", "queuePosition", "uploadRatio", "eta", "totalSize", "wanted",
              "priorities", "magnetLink", "pieces", "downloadDir", "activityDate"]
    return {
        "session_get": tr("session-get", {}, 1),
        "session_get_fields": tr("session-get", {"fields": ["version", "download-dir"]}),
        "session_stats": tr("session-stats"),
        "session_set": tr("session-set", {"speed-limit-down": 100,
                                          "speed-limit-down-enabled": True,
                                          "download-queue-size": 3, "seedRatioLimit": 1.5,
                                          "seedRatioLimited": True}),
        "add_get_set_remove": lines(
            tr("torrent-add", {"metainfo": single, "labels": ["tv"]}, 1),
            tr("torrent-get", {"fields": fields}, 2),
            tr("torrent-get", {"ids": [1], "fields": ["id", "name"], "format": "table"}, 3),
            tr("torrent-set", {"ids": [1], "files-unwanted": [0], "priority-high": [0],
                               "downloadLimit": 10, "downloadLimited": True,
                               "labels": ["a", "b"], "trackerAdd": ["http://127.0.0.1:1/a"]}),
            tr("torrent-rename-path", {"ids": [1], "path": "lt_single.bin", "name": "x.bin"}),
            tr("queue-move-top", {"ids": [1]}),
            tr("torrent-verify", {"ids": "recently-active"}),
            tr("torrent-remove", {"ids": [1], "delete-local-data": True})),
        "add_multi": lines(tr("torrent-add", {"metainfo": multi, "files-wanted": [0]}),
                           tr("torrent-get", {"fields": ["files", "fileStats", "wanted"]}),
                           tr("torrent-stop", {})),
        "add_bad": tr("torrent-add", {"metainfo": "!!!"}),
        "add_filename": tr("torrent-add", {"filename": "/nonexistent.torrent"}),
        "recently_active": tr("torrent-get", {"ids": "recently-active", "fields": ["id"]}),
        "set_location": lines(tr("torrent-add", {"metainfo": single}),
                              tr("torrent-set-location", {"ids": [1], "location": "/tmp",
                                                          "move": False})),
        "free_space": tr("free-space", {"path": "/"}),
        "group_get": tr("group-get"),
        "unknown": tr("torrent-frobnicate", {"ids": [1]}, "t"),
        "wrong_types": tr("torrent-get", {"ids": {"a": 1}, "fields": "id"}),
        "not_object": b"[1,2,3]",
        "not_json": b'{"method":"session-get"',
        "deep": b'{"method":"torrent-get","arguments":' + b"[" * 70 + b"]" * 70 + b"}",
    }


def seeds_config():
    sample = (HERE.parent.parent / "systemd" / "btd.conf.sample").read_bytes()
    return {
        "sample": sample,
        "all_keys": b"\n".join([
            b"state_dir = /var/lib/btd", b"download_dir = /srv/torrents",
            b"rpc_listen = [::1]:9092", b"rpc_auth = yes", b"rpc_allowed_hosts = nas.lan, a.b",
            b"listen_port = 0", b"log_level = debug", b"download_rate_limit = 10m",
            b"upload_rate_limit = 512k", b"max_peers_per_torrent = 80", b"ratio_limit = 1.5",
            b"seed_idle_limit = 3600", b"memory_budget_mib = 64", b"disk_threads = 2", b""]),
        "inline_comment": b"download_dir = /srv/t # my downloads\n",
        "bad_values": b"listen_port = 70000\nrate = 1q\n",
        "no_equals": b"download_dir\n",
        "crlf": b"listen_port = 6881\r\nlog_level = info\r\n",
        "overflow": b"download_rate_limit = 99999999999999999999g\n",
    }


def resume(have="101", **extra):
    r = {"version": 1, "info_hash": SINGLE_HASH, "have": have,
         "files": [{"size": 40000, "mtime": 1700000000}], "paused": False,
         "total_downloaded": 40000, "total_uploaded": 12, "added_at": 1700000000,
         "download_dir": "/srv/torrents"}
    r.update(extra)
    return json.dumps(r).encode()


def seeds_resume_json():
    return {
        "full": resume(limits={"download_rate_limit": 10, "upload_rate_limit": 0, "ratio_limit": 2.5},
                       file_priorities=[4], sequential=True),
        "minimal": resume(),
        "hex_dir": resume(download_dir_hex="2f74ff6d70"),
        "wrong_version": resume(version=2),
        "other_hash": resume(info_hash="00" * 20),
        "bad_have": resume(have="10x"),
        "negative": resume(total_uploaded=-1),
        "not_json": b"{\"version\": 1,",
    }


def seeds_runtime_settings():
    return {
        "all": json.dumps({"download_dir": "/srv/t", "listen_port": 6882, "download_rate_limit": 1000,
                           "upload_rate_limit": 0, "max_peers_per_torrent": 10,
                           "max_connections": 100, "ratio_limit": 1.5,
                           "seed_idle_limit": 60}).encode(),
        "empty": b"{}",
        "bad_values": json.dumps({"listen_port": -1, "ratio_limit": "x", "unknown": [1, {"a": 2}]}).encode(),
        "not_object": b"[1,2]",
        "nested": b'{"download_rate_limit":' + b"[" * 200 + b"]" * 200 + b"}",
        "truncated": b'{"listen_port": 68',
    }


def seeds_job_store():
    single = (DATA / "lt_single.torrent").read_bytes()
    sep = b"\n--resume--\n"
    return {
        "torrent_only": single,
        "with_resume": single + sep + resume(),
        "bad_resume": single + sep + b"{]",
        "other_hash_resume": single + sep + resume(info_hash="00" * 20),
        "bad_torrent": b"d4:infod4:name1:xee" + sep + resume(),
    }


def seeds_move_journal():
    def rec(key, path):
        return key.encode() + b" " + path.hex().encode() + b"\n"
    head = b"btd-move 1\n" + rec("from", b"/srv/old") + rec("to", b"/srv/new")
    files = rec("file", b"a.bin") + rec("file", b"dir/b \n\xff.bin")
    return {
        "copy_started": head + b"mode copy\n" + files,
        "copy_committed": head + b"mode copy\n" + files + rec("copied", b"a.bin")
        + rec("copied", b"dir/b \n\xff.bin") + b"commit\n",
        "rename": head + b"mode rename\n" + files + b"commit\n",
        "torn_last": head + b"mode copy\n" + files + b"copied 61",
        "bad_hex": head + b"file 6g\n",
        "no_to": b"btd-move 1\n" + rec("from", b"/x") + b"mode copy\n",
        "wrong_header": b"btd-move 2\n" + rec("from", b"/x") + rec("to", b"/y"),
    }


def seeds_magnet():
    h = SINGLE_HASH
    b32 = base64.b32encode(bytes.fromhex(h)).decode()
    return {
        "full": ("magnet:?xt=urn:btih:%s&dn=lt%%20single&tr=http%%3A%%2F%%2F127.0.0.1%%3A6969%%2Fannounce"
                 "&tr=udp://127.0.0.1:6969&x.pe=127.0.0.1:6881&x.pe=[::1]:6882" % h).encode(),
        "base32": ("magnet:?xt=urn:btih:%s" % b32).encode(),
        "upper_case": ("MAGNET:?XT=urn:btih:%s&DN=x" % h.upper()).encode(),
        "ignored_parts": ("magnet:?xt=urn:btih:%s&ws=http://a/b&so=0-3&tr=ftp://x&x.pe=host:1" % h).encode(),
        "conflicting_btih": ("magnet:?xt=urn:btih:%s&xt=urn:btih:%s" % (h, "00" * 20)).encode(),
        "btmh_only": b"magnet:?xt=urn:btmh:1220" + b"ab" * 32,
        "bad_percent": ("magnet:?xt=urn:btih:%s&dn=%%zz" % h).encode(),
        "no_xt": b"magnet:?dn=x&tr=http://127.0.0.1/",
        "short_hash": b"magnet:?xt=urn:btih:0dd3ba",
    }


def node_id(byte):
    return bytes([byte]) * 20


def seeds_krpc():
    nid = node_id(1)
    node4 = node_id(2) + bytes([127, 0, 0, 1]) + struct.pack(">H", 6881)
    node6 = node_id(3) + bytes(15) + b"\x01" + struct.pack(">H", 6881)
    peer4 = bytes([127, 0, 0, 1]) + struct.pack(">H", 51413)
    ih = bytes.fromhex(SINGLE_HASH)
    return {
        "ping": bencode({"t": b"aa", "y": "q", "q": "ping", "a": {"id": nid}}),
        "find_node": bencode({"t": b"ab", "y": "q", "q": "find_node", "v": "LT01",
                              "a": {"id": nid, "target": node_id(9), "want": ["n4", "n6"]}}),
        "get_peers": bencode({"t": b"ac", "y": "q", "q": "get_peers", "ro": 1,
                              "a": {"id": nid, "info_hash": ih}}),
        "announce_peer": bencode({"t": b"ad", "y": "q", "q": "announce_peer",
                                  "a": {"id": nid, "info_hash": ih, "port": 6881,
                                        "implied_port": 1, "token": b"tok"}}),
        "reply_nodes": bencode({"t": b"ab", "y": "r", "ip": peer4,
                                "r": {"id": nid, "nodes": node4 * 2, "nodes6": node6}}),
        "reply_values": bencode({"t": b"ac", "y": "r",
                                 "r": {"id": nid, "token": b"xyz", "values": [peer4, peer4]}}),
        "error": bencode({"t": b"ae", "y": "e", "e": [201, "A Generic Error Ocurred"]}),
        "unknown_method": bencode({"t": b"af", "y": "q", "q": "vote", "a": {"id": nid}}),
        "short_id": bencode({"t": b"ag", "y": "q", "q": "ping", "a": {"id": b"short"}}),
        "routing_table": bencode({"id": nid, "nodes": node4 * 3, "nodes6": node6}),
    }


def seeds_ut_metadata():
    return {
        "request": bencode({"msg_type": 0, "piece": 0}),
        "data": bencode({"msg_type": 1, "piece": 0, "total_size": 5}) + b"abcde",
        "data_second_piece": bencode({"msg_type": 1, "piece": 1, "total_size": 16385}) + b"z",
        "reject": bencode({"msg_type": 2, "piece": 3}),
        "handshake": bencode({"m": {"ut_metadata": 3}, "metadata_size": 31235}),
        "huge_total": bencode({"msg_type": 1, "piece": 0, "total_size": 1 << 40}) + b"x",
        "negative_piece": bencode({"msg_type": 0, "piece": -1}),
    }


def seeds_ut_pex():
    peer4 = bytes([127, 0, 0, 1]) + struct.pack(">H", 6881)
    peer6 = bytes(15) + b"\x01" + struct.pack(">H", 6881)
    return {
        "full": bencode({"added": peer4 * 2, "added.f": b"\x12\x01", "added6": peer6,
                         "added6.f": b"\x10", "dropped": peer4, "dropped6": peer6}),
        "empty": bencode({"added": b"", "added.f": b"", "dropped": b""}),
        "flags_mismatch": bencode({"added": peer4 * 2, "added.f": b"\x01"}),
        "odd_length": bencode({"added": peer4[:5]}),
        "port_zero": bencode({"added": bytes([127, 0, 0, 1, 0, 0])}),
        "not_dict": b"le",
    }


TARGETS = {
    "bencode": seeds_bencode, "metainfo": seeds_metainfo, "tracker_http": seeds_tracker_http,
    "tracker_udp": seeds_tracker_udp, "peer_wire": seeds_peer_wire,
    "extension_handshake": seeds_extension_handshake, "rpc": seeds_rpc,
    "transmission": seeds_transmission, "config": seeds_config,
    "resume_json": seeds_resume_json, "runtime_settings": seeds_runtime_settings,
    "job_store": seeds_job_store, "magnet": seeds_magnet, "krpc": seeds_krpc,
    "ut_metadata": seeds_ut_metadata, "ut_pex": seeds_ut_pex, "move_journal": seeds_move_journal,
}


def main():
    for target, make in TARGETS.items():
        folder = CORPUS / target
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("seed_*"):
            old.unlink()
        for name, data in make().items():
            (folder / ("seed_" + name)).write_bytes(data)


if __name__ == "__main__":
    main()
