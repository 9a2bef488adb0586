#!/usr/bin/python3
"""btd's page in a real browser: Debian's chromium, headless, driven by selenium through
chromedriver, on 127.0.0.1. A libtorrent seeder (capped, so the download takes a while) serves a
torrent whose name holds `<script>`: the test logs in (a wrong token first), adds the torrent by
uploading its .torrent file, watches its progress change without a reload, pauses and resumes
it, raises a file's priority in the detail view, sees it reach 100 % and seeding, adds a second
one by URL (a malformed magnet link refused with a message, a good one listed while it waits
for metadata), removes that with "delete data", checks
the phone layout, logs out, and finally sees the page report the stopped daemon. Screenshots go
to the test's temp dir (and to $BTD_WEB_SCREENSHOT_DIR when set).

Needs BTD_BIN (ctest sets it), chromium, chromium-driver and python3-selenium; skips without
them.
"""

import functools
import http.server
import json
import os
import shutil
import signal
import threading
import time
import unittest

import harness as H
import web_common as W
from test_daemon_lifecycle import BtdDaemon

try:
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:  # reported by the skip below
    webdriver = None

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
NAME = "page<script>alert(1)<script>.bin"  # shown as text, never run
SIZE = 12 * H.MIB + 4321
SEED_RATE = 1 * H.MIB  # about 12 s: time to watch progress, pause and resume
WAIT = 60


def make_driver(download_dir):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", f"--user-data-dir={download_dir}/chromium-profile",
                "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@unittest.skipUnless(webdriver and os.access(CHROMIUM, os.X_OK) and
                     os.access(CHROMEDRIVER, os.X_OK),
                     "needs chromium, chromium-driver and python3-selenium (scripts/setup-test)")
class WebPageInBrowser(unittest.TestCase):
    def setUp(self):
        self._tmp = H.TempDir(prefix="btd-browser-")
        self.dir = self._tmp.__enter__()
        self.addCleanup(self._tmp.__exit__, None, None, None)
        self.src = os.path.join(self.dir, "src")
        self.dl = os.path.join(self.dir, "dl")
        os.makedirs(self.dl)
        H.make_payload(self.src, H.layout_single(SIZE, NAME), seed=9)
        H.make_payload(os.path.join(self.dir, "src2"), H.layout_single(300 * H.KIB, "second.bin"),
                       seed=10)
        _, info_hash = H.make_torrent(os.path.join(self.src, NAME), [],
                                      out_path=os.path.join(self.dir, "probe.torrent"))
        self.tracker = H.Tracker([info_hash]).__enter__()
        self.addCleanup(self.tracker.__exit__, None, None, None)
        self.torrent, self.id = H.make_torrent(os.path.join(self.src, NAME),
                                               [self.tracker.http_url],
                                               out_path=os.path.join(self.dir, "page.torrent"))
        self.served = os.path.join(self.dir, "served")
        os.makedirs(self.served)
        _, self.second_id = H.make_torrent(os.path.join(self.dir, "src2", "second.bin"), [],
                                           out_path=os.path.join(self.served, "second.torrent"))
        seeder = H.LtPeer(self.torrent, self.src, mode="seed", upload_limit=SEED_RATE).start()
        self.addCleanup(seeder.stop)
        seeder.wait_ready(60)
        self.daemon = BtdDaemon(os.path.join(self.dir, "state"), self.dl).start()
        self.addCleanup(H.kill_process, self.daemon.proc)
        self.base = f"http://{self.daemon.address}"
        self.url_server = self.serve_dir(self.served)
        self.driver = make_driver(self.dir)
        self.addCleanup(self.driver.quit)

    def serve_dir(self, path):
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=path)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.shutdown)
        return f"http://127.0.0.1:{server.server_address[1]}"

    # -- helpers -------------------------------------------------------------------------------

    def wait(self, condition, what, timeout=WAIT):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.2).until(
                lambda d: condition())
        except Exception as e:
            self.screenshot("failure")
            raise AssertionError(f"timed out waiting for {what}: {e}\n"
                                 f"{self.daemon.log()[-3000:]}") from None

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def visible(self, css):
        found = self.driver.find_elements(By.CSS_SELECTOR, css)
        return bool(found) and found[0].is_displayed()

    def row(self, torrent_id):
        return self.find(f'tr[data-id="{torrent_id}"]')

    def cell(self, torrent_id, cls):
        rows = self.driver.find_elements(By.CSS_SELECTOR, f'tr[data-id="{torrent_id}"] td.{cls}')
        return rows[0].text if rows else None

    def progress(self, torrent_id):
        text = self.cell(torrent_id, "progress")
        return float(text.split()[0]) if text else None

    def screenshot(self, name):
        path = os.path.join(self.dir, f"{name}.png")
        self.driver.save_screenshot(path)
        H.log(f"screenshot: {path}")
        if os.environ.get("BTD_WEB_SCREENSHOT_DIR"):
            shutil.copy(path, os.path.join(os.environ["BTD_WEB_SCREENSHOT_DIR"], f"{name}.png"))
        return path

    def no_alert(self):
        try:
            self.driver.switch_to.alert
        except NoAlertPresentException:
            return True
        return False

    def log_in(self, token):
        field = self.find("#login-token")
        field.clear()
        field.send_keys(token)
        self.find("#login-form button[type=submit]").click()

    # -- the scenario ----------------------------------------------------------------------------

    def test_login_watch_control_and_logout(self):
        self.driver.get(self.base + "/")
        self.wait(lambda: self.visible("#login"), "the login form")
        self.log_in("0" * 64)
        self.wait(lambda: self.find("#login-error").text == "Wrong token.", "the wrong-token message")
        self.log_in(self.daemon.secret)
        self.wait(lambda: self.visible("#app"), "the torrent list after login")
        self.driver.execute_script("window.__sameDocument = 42;")

        self.add_by_upload()
        self.check_name_is_text()
        self.watch_progress_without_reload()
        self.pause_and_resume()
        self.change_file_priority()
        self.wait(lambda: self.cell(self.id, "state") == "seeding", "seeding", H.LEECH_TIMEOUT)
        self.assertEqual(self.cell(self.id, "progress"), "100.0 %")
        H.compare_trees(os.path.join(self.src, NAME), os.path.join(self.dl, NAME))
        self.assertEqual(self.driver.execute_script("return window.__sameDocument;"), 42)
        self.screenshot("btd-web-page")

        self.add_by_url_and_magnet()
        self.remove_with_data()
        self.phone_layout()
        self.log_out()
        self.daemon_stopped()

    def add_by_upload(self):
        self.find("#show-add").click()
        self.find("#add-file").send_keys(self.torrent)
        self.find("#add-form button[type=submit]").click()
        self.wait(lambda: self.cell(self.id, "name") is not None, "the added torrent's row")

    def check_name_is_text(self):
        self.assertEqual(self.cell(self.id, "name"), NAME)
        self.assertEqual(self.driver.find_elements(By.CSS_SELECTOR, "#torrents script"), [])
        self.assertTrue(self.no_alert())

    def watch_progress_without_reload(self):
        seen = set()

        def moved():
            p = self.progress(self.id)
            if p is not None and 0 < p < 100:
                seen.add(p)
            return len(seen) >= 2

        self.wait(moved, "two different progress values while downloading")
        H.log(f"progress seen in the page: {sorted(seen)}")

    def pause_and_resume(self):
        self.row(self.id).find_element(By.CSS_SELECTOR, "button.toggle").click()
        self.wait(lambda: self.cell(self.id, "state") == "paused", "paused in the page")
        self.assertEqual(self.daemon.status(self.id)["state"], "paused")
        held = self.progress(self.id)
        time.sleep(2)
        self.assertEqual(self.progress(self.id), held, "progress moved while paused")
        self.row(self.id).find_element(By.CSS_SELECTOR, "button.toggle").click()
        self.wait(lambda: self.cell(self.id, "state") in ("downloading", "seeding"),
                  "downloading again")

    def change_file_priority(self):
        self.find(f'tr[data-id="{self.id}"] td.name').click()
        self.wait(lambda: self.visible("#detail-files select.priority"), "the detail view")
        self.assertEqual(self.find("#detail-name").text, NAME)
        # The detail view re-renders on live updates: a select found just before may be gone.
        for attempt in range(5):
            try:
                Select(self.find("#detail-files select.priority")).select_by_visible_text("high")
                break
            except StaleElementReferenceException:
                if attempt == 4:
                    raise
                time.sleep(0.2)
        self.wait(lambda: self.daemon.rpc("torrent.get", {"id": self.id})["files"][0]["priority"]
                  == 7, "priority high in btd")
        self.find("#detail-close").click()

    def add_by_url_and_magnet(self):
        self.find("#show-add").click()
        uri = self.find("#add-uri")
        uri.send_keys("magnet:?xt=urn:btih:12345")  # a malformed link: refused, said why
        self.find("#add-form button[type=submit]").click()
        self.wait(lambda: self.find("#add-error").text != "", "the magnet answer")
        H.log(f"bad magnet in the page: {self.find('#add-error').text}")
        self.assertIn("magnet", self.find("#add-error").text)
        uri.clear()
        magnet_id = "ab" * 20  # a good link: a row waiting for its metadata (no peer has it)
        uri.send_keys("magnet:?xt=urn:btih:" + magnet_id + "&dn=waiting")
        self.find("#add-form button[type=submit]").click()
        self.wait(lambda: self.cell(magnet_id, "name") == "waiting", "the magnet row")
        self.daemon.rpc("torrent.remove", {"ids": [magnet_id]})
        self.wait(lambda: self.cell(magnet_id, "name") is None, "the magnet row to go")
        self.find("#show-add").click()
        uri = self.find("#add-uri")
        uri.clear()
        uri.send_keys(self.url_server + "/second.torrent")
        self.find("#add-form button[type=submit]").click()
        self.wait(lambda: self.cell(self.second_id, "name") == "second.bin", "the URL-added row")

    def remove_with_data(self):
        self.row(self.second_id).find_element(By.CSS_SELECTOR, "button.remove").click()
        self.wait(lambda: self.visible("#remove-dialog"), "the remove dialog")
        self.find("#remove-delete-data").click()
        self.find("#remove-confirm").click()
        self.wait(lambda: self.cell(self.second_id, "name") is None, "the row to go")
        self.assertNotIn(self.second_id, [t["id"] for t in self.daemon.rpc("torrent.list")])

    def phone_layout(self):
        self.driver.set_window_size(390, 844)
        self.wait(lambda: self.driver.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1;"),
            "no sideways scrolling on a phone-sized screen", 10)
        self.assertTrue(self.row(self.id).find_element(By.CSS_SELECTOR, "button.toggle")
                        .is_displayed())
        self.screenshot("btd-web-phone")
        self.driver.set_window_size(1280, 900)

    def log_out(self):
        self.find("#logout").click()
        self.wait(lambda: self.visible("#login"), "the login form after logout")
        status = self.driver.execute_async_script(
            "const done = arguments[0];"
            "fetch('/session', {credentials: 'same-origin'}).then(r => done(r.status));")
        self.assertEqual(status, 401)
        self.driver.refresh()
        self.wait(lambda: self.visible("#login"), "the login form after a reload")

    def daemon_stopped(self):
        self.log_in(self.daemon.secret)
        self.wait(lambda: self.visible("#app"), "the list after logging in again")
        self.daemon.proc.send_signal(signal.SIGTERM)
        self.daemon.proc.wait(timeout=30)
        self.wait(lambda: self.visible("#banner") and "btd stopped" in self.find("#banner").text,
                  "the 'btd stopped' message")
        self.screenshot("btd-web-stopped")


if __name__ == "__main__":
    unittest.main()
