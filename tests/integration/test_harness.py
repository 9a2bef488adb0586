#!/usr/bin/python3
"""Checks the harness itself, so the download tests can fail: compare_trees must catch wrong
bytes, missing (also zero-length) and extra files; payloads must be deterministic and free of
repeated pieces. Needs neither btd nor any peer."""

import hashlib
import os
import shutil
import unittest

import harness as H


class CompareTrees(unittest.TestCase):
    def setUp(self):
        self._tmp = H.TempDir()
        self.dir = self._tmp.__enter__()
        self.src = H.make_payload(os.path.join(self.dir, "src"), H.LAYOUT_MULTI, seed=5)
        self.dst = os.path.join(self.dir, "dst")
        shutil.copytree(self.src, self.dst)

    def tearDown(self):
        self._tmp.__exit__(None, None, None)

    def test_identical_trees_pass(self):
        H.compare_trees(self.src, self.dst)

    def test_one_flipped_byte_is_reported_with_offset(self):
        path = os.path.join(self.dst, "sub/deeper/d.bin")
        with open(path, "r+b") as f:
            f.seek(777777)
            b = f.read(1)
            f.seek(777777)
            f.write(bytes([b[0] ^ 1]))
        with self.assertRaisesRegex(AssertionError, r"sub/deeper/d.bin: bytes differ from offset 777777"):
            H.compare_trees(self.src, self.dst)

    def test_missing_zero_length_file_fails(self):
        os.remove(os.path.join(self.dst, "sub/deeper/empty.dat"))
        with self.assertRaisesRegex(AssertionError, "empty.dat"):
            H.compare_trees(self.src, self.dst)

    def test_extra_file_fails(self):
        with open(os.path.join(self.dst, "z/.pad-0"), "wb") as f:
            f.write(b"\0" * 10)
        with self.assertRaisesRegex(AssertionError, "extra files"):
            H.compare_trees(self.src, self.dst)

    def test_truncated_single_file_fails(self):
        a, b = os.path.join(self.src, "a.bin"), os.path.join(self.dst, "a.bin")
        os.truncate(b, os.path.getsize(a) - 1)
        with self.assertRaisesRegex(AssertionError, "size"):
            H.compare_trees(a, b)

    def test_only_entry(self):
        with self.assertRaises(AssertionError):
            H.assert_only_entry(self.dir, "dst")  # 'src' is there too


class Payload(unittest.TestCase):
    def test_deterministic_and_no_repeated_pieces(self):
        with H.TempDir() as d:
            layout = H.layout_single(9 * H.MIB + 5, "p.bin")
            a = H.make_payload(os.path.join(d, "a"), layout, seed=1)
            b = H.make_payload(os.path.join(d, "b"), layout, seed=1)
            c = H.make_payload(os.path.join(d, "c"), layout, seed=2)
            sha = lambda root: H.sha1_file(os.path.join(root, "p.bin"))  # noqa: E731
            self.assertEqual(sha(a), sha(b))
            self.assertNotEqual(sha(a), sha(c))
            self.assertEqual(os.path.getsize(os.path.join(a, "p.bin")), 9 * H.MIB + 5)
            with open(os.path.join(a, "p.bin"), "rb") as f:
                digests = [hashlib.sha1(p).digest() for p in iter(lambda: f.read(256 * H.KIB), b"")]
            self.assertEqual(len(digests), len(set(digests)), "two pieces have the same bytes")


if __name__ == "__main__":
    unittest.main()
