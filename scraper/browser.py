"""Headless Chromium through Selenium, offline-safe.

Always Debian's ``/usr/bin/chromium`` with ``/usr/bin/chromedriver`` passed as
the Service, so Selenium Manager never starts (it would try the network).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path(os.environ.get("CARID_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CARID_CHROMEDRIVER", "/usr/bin/chromedriver"))
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    "--window-size=1280,1000",
)
#: For loopback-only runs (tests, the demo): Chromium resolves no other host.
LOOPBACK_ONLY = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"


def _die_with_parent() -> None:
    """In the chromedriver child (Linux): get SIGTERM when the scraper dies, even by SIGKILL."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class BrowserError(RuntimeError):
    """The browser could not be started; the message says what to install or set."""


def _options(user_data_dir: str, loopback_only: bool) -> Options:
    opts = Options()
    opts.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={user_data_dir}")
    if loopback_only:
        opts.add_argument(LOOPBACK_ONLY)
    return opts


@contextmanager
def chromium(remote_url: str | None = None, loopback_only: bool = False) -> Iterator[webdriver.Remote]:
    """A headless Chromium session (local, or on a Selenium Grid at ``remote_url``), closed on exit."""
    os.environ.setdefault("SE_OFFLINE", "true")
    profile = tempfile.mkdtemp(prefix="carid-chromium-")
    driver: webdriver.Remote
    try:
        if remote_url:
            driver = webdriver.Remote(command_executor=remote_url, options=_options(profile, loopback_only))
        else:
            for needed in (CHROMIUM, CHROMEDRIVER):
                if not needed.exists():
                    raise BrowserError(
                        f"{needed} not found: install Debian's chromium and chromium-driver "
                        "(apt-get install chromium chromium-driver)")
            service = Service(str(CHROMEDRIVER), popen_kw={"preexec_fn": _die_with_parent}
                              if sys.platform.startswith("linux") else {})
            driver = webdriver.Chrome(service=service, options=_options(profile, loopback_only))
        try:
            yield driver
        finally:
            driver.quit()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
