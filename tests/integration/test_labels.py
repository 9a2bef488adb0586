#!/usr/bin/python3
"""Torrent labels end to end (issue 12 item 1 and 2): added with `btctl add --label` and with a
raw Transmission `torrent-add {labels}`, changed with Transmission's `torrent-set {labels}`,
shown by `btctl list` (and filtered by --label), and still there after btd restarts."""

import base64
import http.client
import json
import os
import subprocess
import unittest

import harness as H
from test_daemon_lifecycle import BtdDaemon


class Labels(unittest.TestCase):
    def setUp(self):
        tmp = H.TempDir("btd-labels-")
        self.root = tmp.__enter__()
        self.addCleanup(tmp.__exit__, None, None, None)
        self.btd = BtdDaemon(os.path.join(self.root, "state"), os.path.join(self.root, "dl"))
        self.btd.start()
        self.addCleanup(self.btd.stop)

    def btctl(self, *args):
        res = subprocess.run([H.btctl_binary(), "--state-dir", self.btd.state_dir, *args],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        return res.stdout

    def transmission(self, method, arguments):
        host, port = self.btd.address.rsplit(":", 1)
        basic = "Basic " + base64.b64encode(f"x:{self.btd.secret}".encode()).decode()
        body = json.dumps({"method": method, "arguments": arguments})
        session_id = ""
        for _ in range(2):  # the first answer is the 409 that hands out the session id
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            try:
                conn.request("POST", "/transmission/rpc", body=body,
                             headers={"Authorization": basic,
                                      "X-Transmission-Session-Id": session_id})
                resp = conn.getresponse()
                data = resp.read()
            finally:
                conn.close()
            if resp.status != 409:
                break
            session_id = resp.getheader("X-Transmission-Session-Id")
        self.assertEqual(resp.status, 200, data)
        return json.loads(data)

    def labels(self, info_hash):
        return self.btd.rpc("torrent.get", {"id": info_hash})["labels"]

    def make(self, name):
        data = os.path.join(self.root, "src", name)
        H.make_payload(data, [("f.bin", 40000)])
        return H.make_torrent(data, [], piece_length=16384,
                              out_path=os.path.join(self.root, name + ".torrent"))

    def test_labels_from_btctl_and_transmission_survive_a_restart(self):
        tv, tv_hash = self.make("show")
        movie, movie_hash = self.make("film")
        self.btctl("add", "--paused", "--label", "tv", "--label", "sonarr", tv)
        with open(movie, "rb") as f:
            metainfo = base64.b64encode(f.read()).decode()
        reply = self.transmission("torrent-add", {"metainfo": metainfo, "paused": True,
                                                  "labels": ["radarr"]})
        self.assertEqual(reply["result"], "success", reply)
        movie_id = reply["arguments"]["torrent-added"]["id"]
        bad = self.transmission("torrent-set", {"ids": [movie_id], "labels": ["a,b"]})
        self.assertIn("comma", bad["result"])
        reply = self.transmission("torrent-set", {"ids": [movie_id], "labels": ["movies", "hd"]})
        self.assertEqual(reply["result"], "success", reply)

        self.assertEqual(self.labels(tv_hash), ["tv", "sonarr"])
        self.assertEqual(self.labels(movie_hash), ["movies", "hd"])
        listed = self.btctl("list")
        self.assertIn("LABELS", listed)
        self.assertIn("tv,sonarr", listed)
        only_tv = self.btctl("list", "--label", "tv")
        self.assertIn(tv_hash[:8], only_tv)
        self.assertNotIn(movie_hash[:8], only_tv)

        self.btd.stop()
        self.btd.start()
        self.assertEqual(self.labels(tv_hash), ["tv", "sonarr"])
        self.assertEqual(self.labels(movie_hash), ["movies", "hd"])
        got = self.transmission("torrent-get", {"fields": ["hashString", "labels"]})
        by_hash = {t["hashString"]: t["labels"] for t in got["arguments"]["torrents"]}
        self.assertEqual(by_hash, {tv_hash: ["tv", "sonarr"], movie_hash: ["movies", "hd"]})


if __name__ == "__main__":
    unittest.main()
