"""Headless Chromium through Selenium, offline-safe, owned whole by the process that opens it.

Always Debian's ``/usr/bin/chromium`` with ``/usr/bin/chromedriver`` passed as
the Service, so Selenium Manager never starts (it would try the network).

A local browser never outlives its owner: chromedriver starts in a session of
its own, which Chromium's whole tree joins, and a guard process
(:mod:`scraper.browser_guard`) kills that group and removes the profile folder
when the owner ends, however it ends (``kill -9`` included), or when
chromedriver dies. Each run first removes the ``carid-chromium-*`` profile
folders of runs whose owner is gone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from scraper.browser_guard import PROFILE_ENV, PROFILE_PREFIX, remove_stale_profiles, write_owner

log = logging.getLogger(__name__)

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


GUARD = Path(__file__).with_name("browser_guard.py")


class _Guard:
    """The guard process of one local browser; :meth:`close` is the owner's normal goodbye."""

    def __init__(self, profile: Path, driver: subprocess.Popen[Any]) -> None:
        read_end, self._owner_end = os.pipe()  # not inheritable: only this process holds the write end
        try:
            pidfd = os.pidfd_open(driver.pid)
        except (AttributeError, OSError):  # not Linux >= 5.3: the guard polls chromedriver instead
            pidfd = -1
        fds = (read_end,) + ((pidfd,) if pidfd >= 0 else ())
        try:
            # own session: a signal to the owner's process group (Ctrl-C, a runner's kill) does not reach the guard
            self.proc = subprocess.Popen(
                [sys.executable, "-I", str(GUARD), "--owner-fd", str(read_end), "--pidfd", str(pidfd),
                 "--driver-pid", str(driver.pid), "--profile", str(profile)],
                pass_fds=fds, start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        except BaseException:
            os.close(self._owner_end)
            raise
        finally:
            for fd in fds:
                os.close(fd)

    def close(self, timeout_s: float = 30.0) -> None:
        """Tell the guard the owner is done; it takes down what is left and removes the profile folder."""
        if self._owner_end >= 0:
            os.close(self._owner_end)
            self._owner_end = -1
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            log.warning("the browser guard (pid %d) did not finish in %.0f s", self.proc.pid, timeout_s)


class _OwnedService(Service):
    """chromedriver in a session of its own (Chromium joins its process group), watched by a guard process."""

    def __init__(self, profile: Path) -> None:
        popen_kw: dict[str, Any] = {"start_new_session": True}
        if sys.platform.startswith("linux"):
            popen_kw["preexec_fn"] = _die_with_parent
        super().__init__(str(CHROMEDRIVER), popen_kw=popen_kw, env=_browser_env(profile))
        self.profile = profile
        self.guard: _Guard | None = None

    def start(self) -> None:
        super().start()  # chromedriver is up; Chromium starts later, with the session
        if os.name == "posix":  # process groups, pipes passed by number: POSIX only
            self.guard = _Guard(self.profile, self.process)

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            if self.guard is not None:
                self.guard.close()
                self.guard = None


#: Chromium makes a unix socket at ``$TMPDIR/org.chromium.Chromium.XXXXXX/SingletonSocket``; sun_path holds 108 bytes.
_SOCKET_TAIL = len("/org.chromium.Chromium.XXXXXX/SingletonSocket")


def _browser_env(profile: Path) -> dict[str, str]:
    """chromedriver's (so Chromium's) environment: marked with the profile, temp files inside the profile folder.

    With ``TMPDIR`` there, what a killed Chromium leaves in the temp dir (its singleton socket, scoped folders,
    shared-memory files under ``--disable-dev-shm-usage``) goes with the profile folder; where that path would be too
    long for a unix socket, the system temp dir is kept.
    """
    env = {**os.environ, PROFILE_ENV: str(profile)}
    tmp = profile / "tmp"
    if len(os.fsencode(tmp)) + _SOCKET_TAIL < 108:
        tmp.mkdir(exist_ok=True)
        env["TMPDIR"] = str(tmp)
    return env


def _clean_stale_profiles() -> None:
    try:
        remove_stale_profiles(Path(tempfile.gettempdir()))
    except (OSError, psutil.Error) as exc:  # never a reason not to scrape
        log.warning("could not clean stale browser profiles: %s", exc)


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
    _clean_stale_profiles()
    profile = Path(tempfile.mkdtemp(prefix=PROFILE_PREFIX))
    driver: webdriver.Remote
    try:
        write_owner(profile)
        if remote_url:
            driver = webdriver.Remote(command_executor=remote_url, options=_options(str(profile), loopback_only))
        else:
            for needed in (CHROMIUM, CHROMEDRIVER):
                if not needed.exists():
                    raise BrowserError(
                        f"{needed} not found: install Debian's chromium and chromium-driver "
                        "(apt-get install chromium chromium-driver)")
            driver = webdriver.Chrome(service=_OwnedService(profile), options=_options(str(profile), loopback_only))
        try:
            yield driver
        finally:
            driver.quit()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
