#!/usr/bin/python3
"""systemd/btd.service.in passes `systemd-analyze verify` (with ExecStart pointing at the built
binary, since verify checks that the executable exists), and keeps its key settings. The unit
as `cmake --install` writes it is checked by test_install.py."""

import os
import re
import shutil
import subprocess
import time
import unittest

import harness as H

UNIT = os.path.join(H.REPO_ROOT, "systemd", "btd.service.in")


class SystemdUnit(unittest.TestCase):
    def test_unit_verifies(self):
        analyze = shutil.which("systemd-analyze")
        if not analyze:
            self.skipTest("systemd-analyze is not installed")
        with open(UNIT) as f:
            text = f.read()
        text, n = re.subn(r"^ExecStart=@BTD_BINARY@ ", f"ExecStart={os.path.abspath(H.btd_binary())} ", text,
                          flags=re.M)
        self.assertEqual(n, 1, "btd.service.in must have exactly one ExecStart=@BTD_BINARY@")
        text = text.replace("@BTD_CONFIG_FILE@", "/etc/btd/btd.conf")
        self.assertNotRegex(text, r"@[A-Z_]+@", "a placeholder cmake/install_service.cmake "
                            "does not fill in")
        with H.TempDir() as tmp:
            unit = os.path.join(tmp, "btd.service")
            with open(unit, "w") as f:
                f.write(text)
            # The man pages of Documentation= are not installed here (test_install.py checks them).
            res = subprocess.run([analyze, "verify", "--man=no", unit], capture_output=True,
                                 text=True, timeout=60)
            H.log(f"systemd-analyze verify exited {res.returncode}: {res.stderr.strip()}")
            self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
            self.assertNotIn("btd.service:", res.stderr,
                             "systemd-analyze complained about the unit")

    def test_unit_settings(self):
        with open(UNIT) as f:
            text = f.read()
        for line in ["Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "StateDirectory=btd",
                     "DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict",
                     "SystemCallFilter=@system-service", "UMask=0027", "TimeoutStopSec=20",
                     "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
                     "MemoryDenyWriteExecute=yes", "LimitNOFILE=65536"]:
            self.assertIn("\n" + line + "\n", text)

    def test_sample_config_is_accepted(self):
        # Every key of the sample, uncommented, must be accepted (btd exits 2 on a bad config),
        # so start btd with them briefly.
        sample = os.path.join(H.REPO_ROOT, "systemd", "btd.conf.sample")
        with open(sample) as f:
            lines = f.read().splitlines()
        keys = [l[1:] for l in lines if re.match(r"^#[a-z_]+ = ", l)]
        self.assertGreaterEqual(len(keys), 12, "the sample should show every key")
        with H.TempDir() as tmp:
            conf = os.path.join(tmp, "btd.conf")
            state = os.path.join(tmp, "state")
            with open(conf, "w") as f:
                for k in keys:
                    if k.startswith(("state_dir", "download_dir", "webhook_ca_file")):
                        continue  # paths that must exist (an unloadable CA file stops btd)
                    if k.startswith("rpc_listen"):
                        k = "rpc_listen = 127.0.0.1:0"
                    if k.startswith("listen_port"):
                        k = f"listen_port = {H.free_port()}"
                    if k.startswith("lsd = "):
                        k = "lsd = false"  # no test multicasts on the host's LAN
                    if k.startswith("dht = "):
                        k = "dht = false"  # no test contacts the public DHT routers
                    f.write(k + "\n")
            proc = H.spawn([H.btd_binary(), "--config", conf, "--state-dir", state,
                            "--download-dir", os.path.join(tmp, "dl")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            address = os.path.join(state, "rpc.address")
            for _ in range(300):
                if os.path.exists(address) or proc.poll() is not None:
                    break
                time.sleep(0.05)
            self.assertIsNone(proc.poll(), proc.stderr.read() if proc.poll() is not None else "")
            proc.terminate()
            self.assertEqual(proc.wait(timeout=10), 0)


if __name__ == "__main__":
    unittest.main()
