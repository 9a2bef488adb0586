#!/usr/bin/python3
"""`cmake --install` of the build under test gives a service that starts on the first try.

Installs the build that BTD_BIN belongs to (build/daemon/btd -> build/) into temporary trees,
as a package would (DESTDIR with the prefix /usr) and as a user would (--prefix DIR), and
checks: the unit's ExecStart names the installed btd and a config that was installed and that
btd accepts; systemd-analyze verify accepts the unit; binaries are stripped; man pages parse
with groff; bash completion completes; an existing config survives a reinstall. The man pages
and the completion must also name exactly the flags, keys and commands the programs have."""

import os
import re
import shlex
import shutil
import subprocess
import time
import unittest

import harness as H

MAN_PAGES = {"btd": ("man8", "btd.8"), "btd.conf": ("man5", "btd.conf.5"),
             "btctl": ("man1", "btctl.1")}
DOCS = os.path.join(H.REPO_ROOT, "docs")
COMPLETION = os.path.join(DOCS, "bash-completion", "btctl")
SAMPLE = os.path.join(H.REPO_ROOT, "systemd", "btd.conf.sample")


def build_dir():
    """The CMake build dir the binary under test came from (BTD_BIN = <build>/daemon/btd)."""
    d = os.path.dirname(os.path.dirname(os.path.abspath(H.btd_binary())))
    if not os.path.exists(os.path.join(d, "CMakeCache.txt")):
        raise FileNotFoundError(f"{d} is not a CMake build dir (from BTD_BIN={H.btd_binary()})")
    return d


def cmake_cache(name):
    with open(os.path.join(build_dir(), "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split("=", 1)[1].strip()
    return None


def cmake_install(*args, destdir=None):
    env = dict(os.environ)
    env.pop("DESTDIR", None)
    if destdir:
        env["DESTDIR"] = destdir
    res = subprocess.run(["cmake", "--install", build_dir(), *args], capture_output=True,
                         text=True, timeout=300, env=env)
    H.log(f"cmake --install {' '.join(args)} (DESTDIR={destdir}) exited {res.returncode}")
    if res.returncode != 0:
        raise AssertionError(f"cmake --install failed:\n{res.stdout}\n{res.stderr}")
    return res.stdout


def exec_start(unit_text):
    lines = re.findall(r"^ExecStart=(.*)$", unit_text, flags=re.M)
    assert len(lines) == 1, f"want one ExecStart=, got {lines}"
    return shlex.split(lines[0])


def config_of(argv):
    assert "--config" in argv, f"ExecStart has no --config: {argv}"
    return argv[argv.index("--config") + 1]


def section_names(elf):
    res = subprocess.run(["readelf", "-S", "-W", elf], capture_output=True, text=True,
                         timeout=60, check=True)
    return set(re.findall(r"\]\s+(\.\S+)", res.stdout))


def doc_text(path):
    """A roff file with its dashes as the reader sees them, without its examples (.EX/.EE),
    which may show other programs' options."""
    with open(path) as f:
        text = re.sub(r"\\f[BIRP]", "", f.read()).replace("\\-", "-")
    return re.sub(r"^\.EX$.*?^\.EE$", "", text, flags=re.M | re.S)


def long_options(text):
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", text))


def help_of(binary, *args):
    res = subprocess.run([binary, *args, "--help"], capture_output=True, text=True, timeout=30)
    return res.returncode, res.stdout


def completion_commands():
    with open(COMPLETION) as f:
        m = re.search(r'^\s*local commands="([^"]*)"', f.read(), flags=re.M)
    assert m, "the completion has no `local commands=` list"
    return m.group(1).split()


def complete(completion_file, btctl_dir, words):
    """COMPREPLY of the btctl completion for the command line `words` (the last is completed)."""
    script = (f"source {shlex.quote(completion_file)}\n"
              f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
              f"COMP_CWORD={len(words) - 1}\n"
              "_btctl\n"
              'printf "%s\\n" "${COMPREPLY[@]}"\n')
    env = {"PATH": btctl_dir + ":/usr/bin:/bin", "HOME": "/nonexistent"}
    res = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True,
                         text=True, timeout=60, env=env)
    assert res.returncode == 0, res.stderr
    return [w for w in res.stdout.splitlines() if w]


class Installed:
    """Paths of an install: `root` is DESTDIR (or "" without one), paths in the unit are
    absolute paths of the installed system, found under root."""

    def __init__(self, root, prefix):
        self.root, self.prefix = root, prefix
        self.unit = self.path(f"{prefix}/lib/systemd/system/btd.service")

    def path(self, p):
        return self.root + p if self.root else p

    def unit_text(self):
        with open(self.unit) as f:
            return f.read()


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp_ctx = H.TempDir(prefix="btd-install-")
        cls.tmp = cls.tmp_ctx.__enter__()
        # As a package builds it: DESTDIR, prefix /usr (so the config goes to /etc).
        cls.pkg = Installed(os.path.join(cls.tmp, "destdir"), "/usr")
        cmake_install("--prefix", "/usr", "--strip", destdir=cls.pkg.root)
        # As a user may: another prefix, no --strip (BTD_INSTALL_STRIP strips by default).
        cls.user = Installed("", os.path.join(cls.tmp, "opt", "usr"))
        cmake_install("--prefix", cls.user.prefix)

    @classmethod
    def tearDownClass(cls):
        cls.tmp_ctx.__exit__(None, None, None)

    def test_unit_points_at_the_install(self):
        argv = exec_start(self.pkg.unit_text())
        self.assertEqual(argv[0], "/usr/bin/btd")
        self.assertEqual(config_of(argv), "/etc/btd/btd.conf")
        self.assertTrue(os.access(self.pkg.path(argv[0]), os.X_OK))
        self.assertTrue(os.path.isfile(self.pkg.path(config_of(argv))))
        self.assertNotRegex(self.pkg.unit_text(), r"@[A-Z_]+@", "a placeholder was left")

        argv = exec_start(self.user.unit_text())
        self.assertEqual(argv[0], f"{self.user.prefix}/bin/btd")
        self.assertEqual(config_of(argv), f"{self.user.prefix}/etc/btd/btd.conf")
        self.assertTrue(os.access(argv[0], os.X_OK))
        self.assertTrue(os.path.isfile(config_of(argv)))

    def start_installed_btd(self, state):
        """btd started with the unit's own command line (installed binary, installed config),
        plus what systemd would give it (a state dir) and free ports; returns once its RPC is
        up."""
        argv = exec_start(self.user.unit_text())
        args = argv + ["--rpc-listen", "127.0.0.1:0", "--listen-port", str(H.free_port())]
        args += H.NO_DISCOVERY_FLAGS
        env = {k: v for k, v in os.environ.items() if k not in ("XDG_STATE_HOME", "HOME")}
        env["STATE_DIRECTORY"] = state
        log = state + ".log"
        with open(log, "w") as err:
            proc = H.spawn(args, env=env, stdout=subprocess.DEVNULL, stderr=err)
        address = os.path.join(state, "rpc.address")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and not os.path.exists(address):
            time.sleep(0.05)
        if proc.poll() is not None:
            with open(log) as f:
                self.fail(f"installed btd exited {proc.returncode}: {f.read()}")
        self.assertTrue(os.path.exists(address), "btd did not start its RPC within 60 s")
        return proc

    def test_installed_btd_starts_with_the_unit_command_line(self):
        proc = self.start_installed_btd(os.path.join(self.tmp, "state"))
        proc.terminate()
        self.assertEqual(proc.wait(timeout=30), 0)

    def test_completion_offers_torrent_ids(self):
        state = os.path.join(self.tmp, "state-ids")
        proc = self.start_installed_btd(state)
        payload = H.make_payload(os.path.join(self.tmp, "payload"), [("a.bin", 64 * H.KIB)])
        torrent, info_hash = H.make_torrent(payload, [])
        bindir = os.path.join(self.user.prefix, "bin")
        res = subprocess.run([os.path.join(bindir, "btctl"), "--state-dir", state, "add",
                              "--paused", torrent], capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        completion = os.path.join(self.user.prefix, "share", "bash-completion", "completions",
                                  "btctl")
        # bash splits `--state-dir=DIR` into three words.
        for words in (["btctl", "--state-dir", state, "info", ""],
                      ["btctl", "--state-dir", "=", state, "remove", info_hash[:3]]):
            self.assertEqual(complete(completion, bindir, words), [info_hash], words)
        proc.terminate()
        self.assertEqual(proc.wait(timeout=30), 0)

    def verify_unit(self, unit, install):
        """systemd-analyze verify, with the man pages of Documentation= looked up in the
        install tree (verify runs `man` for them)."""
        analyze = shutil.which("systemd-analyze")
        if not analyze:
            self.skipTest("systemd-analyze is not installed")
        env = dict(os.environ, MANPATH=install.path(f"{install.prefix}/share/man"))
        res = subprocess.run([analyze, "verify", unit], capture_output=True, text=True,
                             timeout=120, env=env)
        H.log(f"systemd-analyze verify {unit} exited {res.returncode}: {res.stderr.strip()}")
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertNotIn("btd.service:", res.stderr, "systemd-analyze complained about the unit")

    def test_systemd_analyze_verifies_the_installed_unit(self):
        # The --prefix install's unit names real paths: verify it as installed.
        self.verify_unit(self.user.unit, self.user)

    def test_systemd_analyze_verifies_the_packaged_unit(self):
        # The DESTDIR install's unit names /usr/bin/btd, which verify checks for: verify a copy
        # whose ExecStart paths point into DESTDIR (the rest as installed).
        text = self.pkg.unit_text()
        argv = exec_start(text)
        moved = [self.pkg.path(argv[0])] + argv[1:]
        moved[moved.index("--config") + 1] = self.pkg.path(config_of(argv))
        text = re.sub(r"^ExecStart=.*$", "ExecStart=" + shlex.join(moved), text, flags=re.M)
        unit = os.path.join(self.tmp, "verify", "btd.service")
        os.makedirs(os.path.dirname(unit), exist_ok=True)
        with open(unit, "w") as f:
            f.write(text)
        self.verify_unit(unit, self.pkg)

    def test_binaries_are_stripped(self):
        for install in (self.pkg, self.user):
            for name in ("btd", "btctl"):
                elf = install.path(f"{install.prefix}/bin/{name}")
                sections = section_names(elf)
                H.log(f"{elf}: {os.path.getsize(elf)} bytes")
                self.assertIn(".text", sections)
                if install is self.user and cmake_cache("BTD_INSTALL_STRIP") == "OFF":
                    continue  # a build configured to keep symbols
                self.assertFalse({".debug_info", ".symtab"} & sections,
                                 f"{elf} is not stripped: {sorted(sections)}")

    def test_man_pages_and_completion_are_installed(self):
        for install in (self.pkg, self.user):
            man = install.path(f"{install.prefix}/share/man")
            for section, page in MAN_PAGES.values():
                self.assertTrue(os.path.isfile(os.path.join(man, section, page)), page)
            completion = install.path(
                f"{install.prefix}/share/bash-completion/completions/btctl")
            self.assertTrue(os.path.isfile(completion))
            docs = install.path(f"{install.prefix}/share/doc/btd")
            for doc in ("README.md", "LICENSE", "CHANGELOG.md", "btd.conf.sample"):
                self.assertTrue(os.path.isfile(os.path.join(docs, doc)), doc)

    def test_man_pages_parse_without_warnings(self):
        groff = shutil.which("groff")
        if not groff:
            self.skipTest("groff is not installed (apt-get install groff-base): pages not parsed")
        man = os.path.join(self.user.prefix, "share", "man")
        for section, page in MAN_PAGES.values():
            res = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z",
                                  os.path.join(man, section, page)],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual((res.returncode, res.stderr), (0, ""), page)

    def test_completion_completes(self):
        completion = os.path.join(self.user.prefix, "share", "bash-completion", "completions",
                                  "btctl")
        bindir = os.path.join(self.user.prefix, "bin")
        self.assertEqual(complete(completion, bindir, ["btctl", "re"]),
                         ["resume", "reannounce", "remove"])
        self.assertEqual(complete(completion, bindir, ["btctl", "--state-dir", "/x", "s"]),
                         ["set", "stats", "session", "shutdown"])
        self.assertIn("--sequential", complete(completion, bindir, ["btctl", "set", "--s"]))
        self.assertEqual(complete(completion, bindir, ["btctl", "set", "--sequential", ""]),
                         ["on", "off"])
        self.assertEqual(complete(completion, bindir, ["btctl", "remove", "--d"]),
                         ["--delete-data"])
        self.assertEqual(complete(completion, bindir, ["btctl", "--timeout", "=", "5", "v"]),
                         ["verify", "version"])

    def test_reinstall_keeps_the_config(self):
        conf = self.user.path(f"{self.user.prefix}/etc/btd/btd.conf")
        with open(conf, "a") as f:
            f.write("log_level = debug\n")
        with open(conf) as f:
            mine = f.read()
        out = cmake_install("--prefix", self.user.prefix)
        self.assertIn("Keeping", out)
        with open(conf) as f:
            self.assertEqual(f.read(), mine)
        with open(SAMPLE) as f:
            self.assertNotEqual(f.read(), mine)


class DocsMatchPrograms(unittest.TestCase):
    """The man pages and the completion name what the programs really take, both ways."""

    def man(self, name):
        section, page = MAN_PAGES[name]
        return doc_text(os.path.join(DOCS, "man", page))

    def test_btd_page_has_every_flag(self):
        code, usage = help_of(H.btd_binary())
        self.assertEqual(code, 0)
        page = long_options(self.man("btd"))
        flags = long_options(usage) | {"--help", "--version"}
        self.assertEqual(flags - page, set(), "flags of `btd --help` missing from btd.8")
        self.assertEqual(page - flags, set(), "btd.8 names flags btd does not have")

    def test_conf_page_has_every_key(self):
        with open(SAMPLE) as f:
            keys = set(re.findall(r"^#([a-z_]+) = ", f.read(), flags=re.M))
        self.assertGreaterEqual(len(keys), 12)
        documented = set(re.findall(r"^\.BI ([a-z_]+) \"", self.man("btd.conf"), flags=re.M))
        self.assertEqual(keys - documented, set(), "keys of btd.conf.sample missing from btd.conf.5")
        self.assertEqual(documented - keys, set(), "btd.conf.5 names keys the sample lacks")

    def test_btctl_page_and_completion_have_every_option(self):
        # The options of `btctl --help` and of every `btctl COMMAND --help`.
        code, usage = help_of(H.btctl_binary())
        self.assertEqual(code, 0)
        for command in completion_commands():
            usage += help_of(H.btctl_binary(), command)[1]
        options = long_options(usage) | {"--help", "--version", "--json"}
        page = long_options(self.man("btctl"))
        with open(COMPLETION) as f:
            completion = long_options(f.read())
        self.assertEqual(options - page, set(), "options of `btctl --help` missing from btctl.1")
        self.assertEqual(page - options, set(), "btctl.1 names options btctl does not have")
        self.assertEqual(options - completion, set(), "options missing from the completion")
        self.assertEqual(completion - options, set(), "the completion offers unknown options")

    def test_btctl_page_and_completion_have_every_command(self):
        code, usage = help_of(H.btctl_binary())
        # Command lines of the help are indented and start with the command (or a|b|c).
        listed = set()
        for m in re.finditer(r"^ {2,}([a-z]+(?:\s*\|\s*[a-z]+)*)\b", usage, flags=re.M):
            listed |= set(re.split(r"\s*\|\s*", m.group(1)))
        commands = set(completion_commands())
        self.assertGreaterEqual(len(listed), 10, f"commands not found in btctl --help: {usage}")
        self.assertEqual(listed - commands, set(), "commands missing from the completion")
        for command in commands:
            self.assertEqual(help_of(H.btctl_binary(), command)[0], 0,
                             f"the completion offers `{command}`, which btctl refuses")
        page = self.man("btctl")
        section = page[page.index(".SH COMMANDS"):page.index(".SH OPTIONS")]
        documented = set(re.findall(r"^\.BI? ([a-z]+)", section, flags=re.M))
        self.assertEqual(commands - documented, set(), "commands missing from btctl.1")

    def test_pages_carry_the_version(self):
        res = subprocess.run([H.btd_binary(), "--version"], capture_output=True, text=True,
                             timeout=30)
        version = res.stdout.split()[-1]
        for name in MAN_PAGES:
            self.assertIn(f'"btd {version}"', self.man(name), name)


if __name__ == "__main__":
    unittest.main()
