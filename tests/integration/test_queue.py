#!/usr/bin/python3
"""The download queue (issue 12 item 2): five torrents, each with its own libtorrent seeder on
127.0.0.1, and max_active_downloads = 2. Never more than two download at once (a stalled one
aside), a torrent without payload for queue_stalled_after gives its slot to the next one, every
torrent completes and every byte matches. Queue moves and positions survive a restart."""

import os
import time
import unittest

import harness as H
from test_daemon_lifecycle import BtdDaemon

SIZE = 3 * H.MIB
RATE = 768 * H.KIB  # each seeder's upload cap: a download lasts ~4 s, long enough to watch


class Queue(unittest.TestCase):
    def setUp(self):
        tmp = H.TempDir("btd-queue-")
        self.root = tmp.__enter__()
        self.addCleanup(tmp.__exit__, None, None, None)

    def make_torrents(self, count, trackers_for=lambda hashes: []):
        contents, probes = [], []
        for i in range(count):
            content = os.path.join(self.root, "src", f"t{i}.bin")
            os.makedirs(os.path.dirname(content), exist_ok=True)
            H.make_payload(os.path.dirname(content), [(f"t{i}.bin", SIZE)], seed=10 + i)
            contents.append(content)
            probes.append(H.make_torrent(content, [], 64 * H.KIB,
                                         os.path.join(self.root, f"probe{i}.torrent"))[1])
        urls = trackers_for(probes)
        made = [H.make_torrent(c, urls, 64 * H.KIB, os.path.join(self.root, f"t{i}.torrent"))
                for i, c in enumerate(contents)]
        return contents, made

    def start_btd(self, **settings):
        btd = BtdDaemon(os.path.join(self.root, "state"), os.path.join(self.root, "dl"))
        btd.start()
        self.addCleanup(btd.stop)
        if settings:
            btd.rpc("session.set", settings)
        return btd

    def test_two_at_a_time_a_stalled_one_frees_its_slot_and_all_complete(self):
        tracker = None

        def with_tracker(hashes):
            nonlocal tracker
            tracker = H.Tracker(hashes).__enter__()
            self.addCleanup(tracker.__exit__, None, None, None)
            return [tracker.http_url]

        contents, torrents = self.make_torrents(5, with_tracker)
        btd = self.start_btd(max_active_downloads=2, queue_stalled_after=3)
        seeders = {}
        for i in range(1, 5):  # torrent 0 has no seeder yet: it stalls
            seeders[i] = H.LtPeer(torrents[i][0], os.path.dirname(contents[i]),
                                  upload_limit=RATE).start()
            self.addCleanup(seeders[i].stop)
        for peer in seeders.values():
            peer.wait_ready(60)
        ids = [btd.add(t)["id"] for t, _ in torrents]
        self.assertEqual([btd.status(i)["queue_position"] for i in ids], [0, 1, 2, 3, 4])

        most_running = 0
        seen_states = set()
        stalled_gave_slot = False
        deadline = time.monotonic() + 240
        late_seeder_started = False
        while time.monotonic() < deadline:
            listed = {t["id"]: t for t in btd.rpc("torrent.list")}
            states = [listed[i]["state"] for i in ids]
            seen_states.update(states)
            running = [i for i in ids
                       if listed[i]["state"] == "downloading" and not listed[i]["stalled"]]
            most_running = max(most_running, len(running))
            self.assertLessEqual(len(running), 2, f"more than 2 downloading: {states}")
            if listed[ids[0]]["stalled"] and len(running) == 2:
                stalled_gave_slot = True
            # Once the others are through, torrent 0 gets its seeder and must complete too.
            if not late_seeder_started and all(s == "seeding" for s in states[1:]):
                self.assertTrue(stalled_gave_slot, "the stalled torrent kept its slot")
                seeders[0] = H.LtPeer(torrents[0][0], os.path.dirname(contents[0]),
                                      upload_limit=RATE).start()
                self.addCleanup(seeders[0].stop)
                late_seeder_started = True
            if all(s == "seeding" for s in states):
                break
            time.sleep(0.2)
        else:
            self.fail(f"not all complete: {states}\n{btd.log()[-4000:]}")
        H.log(f"at most {most_running} downloading at once; stalled freed its slot: "
              f"{stalled_gave_slot}")
        self.assertEqual(most_running, 2)
        self.assertTrue(stalled_gave_slot)
        for content in contents:
            H.compare_trees(content, os.path.join(btd.download_dir, os.path.basename(content)))
        self.assertIn("queued", seen_states, "no torrent was ever listed as queued")

    def test_queue_moves_and_positions_survive_a_restart(self):
        _, torrents = self.make_torrents(4)
        btd = self.start_btd(max_active_downloads=1)
        ids = [btd.add(t)["id"] for t, _ in torrents]
        # No peers anywhere: the first one runs (downloading), the rest wait queued.
        time.sleep(2.5)
        states = [btd.status(i)["state"] for i in ids]
        self.assertEqual(states, ["downloading", "queued", "queued", "queued"])
        btd.rpc("torrent.queue_move", {"ids": [ids[3]], "to": "top"})
        btd.rpc("torrent.queue_move", {"ids": [ids[0]], "to": "down"})
        expected = {ids[3]: 0, ids[1]: 1, ids[0]: 2, ids[2]: 3}  # 3 0 1 2 -> 3 1 0 2
        got = {i: btd.status(i)["queue_position"] for i in ids}
        self.assertEqual(got, expected)
        time.sleep(2.5)
        self.assertEqual(btd.status(ids[3])["state"], "downloading")
        self.assertEqual(btd.status(ids[0])["state"], "queued")
        btd.rpc("torrent.start_now", {"ids": [ids[2]]})
        self.assertEqual(btd.status(ids[2])["state"], "downloading")
        bad = None
        try:
            btd.rpc("torrent.queue_move", {"ids": [ids[0]], "to": "sideways"})
        except AssertionError as e:
            bad = str(e)
        self.assertIn("top, up, down, bottom", bad or "")

        btd.stop()
        btd.start()
        got = {i: btd.status(i)["queue_position"] for i in ids}
        self.assertEqual(got, expected)


    def test_restored_torrents_get_their_slots_in_queue_order(self):
        """btd restores its jobs in info-hash order; with max_active_downloads = 1 the one at
        queue position 0 must be the first (and only) one to download after a restart, even
        when it is restored last."""
        _, torrents = self.make_torrents(3)
        btd = self.start_btd(max_active_downloads=1)
        ids = [btd.add(t)["id"] for t, _ in torrents]
        order = sorted(ids, reverse=True)  # position 0 = the one restored last
        for tid in order:
            btd.rpc("torrent.queue_move", {"ids": [tid], "to": "bottom"})
        self.assertEqual([btd.status(i)["queue_position"] for i in order], [0, 1, 2])
        names = {i: btd.status(i)["name"] for i in ids}
        for _ in range(2):  # twice: the first restart restores what this run saved
            btd.stop()
            btd.start()
            deadline = time.monotonic() + 20
            while btd.status(order[0])["state"] != "downloading":
                self.assertLess(time.monotonic(), deadline, btd.log()[-3000:])
                time.sleep(0.1)
            time.sleep(2.5)
            states = [btd.status(i)["state"] for i in order]
            self.assertEqual(states, ["downloading", "queued", "queued"])
            started = [line for line in btd.log().splitlines() if ": now downloading" in line]
            H.log("after the restart:\n" + "\n".join(started))
            self.assertTrue(started)
            for line in started:
                self.assertIn(names[order[0]] + ": now downloading", line,
                              "a slot went to another torrent first")


    def test_a_stalled_seed_frees_its_seed_slot(self):
        """max_active_seeds 1, two complete torrents, no peers: the second waits queued until
        the first has sent nothing for queue_stalled_after (4 s), then seeds too; the first
        goes on seeding, marked stalled."""
        _, torrents = self.make_torrents(2)
        btd = self.start_btd(max_active_seeds=1, queue_stalled_after=4)
        src = os.path.join(self.root, "src")
        ids = [btd.add(t, download_dir=src)["id"] for t, _ in torrents]
        deadline = time.monotonic() + 30
        while btd.status(ids[0])["state"] != "seeding":
            self.assertLess(time.monotonic(), deadline, btd.log()[-3000:])
            time.sleep(0.1)
        seeding_since = time.monotonic()
        # Both checked their data as downloads; once seeds, the second one waits.
        while btd.status(ids[1])["state"] != "queued":
            self.assertLess(time.monotonic(), seeding_since + 10, btd.log()[-3000:])
            time.sleep(0.1)
        while btd.status(ids[1])["state"] != "seeding":
            self.assertLess(time.monotonic(), seeding_since + 20, btd.log()[-3000:])
            self.assertEqual(btd.status(ids[1])["state"], "queued")
            time.sleep(0.1)
        waited = time.monotonic() - seeding_since
        H.log(f"the second seed started {waited:.1f}s after the first")
        self.assertGreater(waited, 3)
        first = btd.status(ids[0])
        self.assertEqual((first["state"], first["stalled"]), ("seeding", True))


if __name__ == "__main__":
    unittest.main()
