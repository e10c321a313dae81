"""The scraper owns its whole browser: real headless Chromium against the real demo marketplace on loopback.

A ``kill -9`` of carid (mid-scrape) or of chromedriver takes every Chromium process of that run with it, crash
handler included, and removes the run's profile folder; the next run removes the folders (and browsers) of runs
whose owner is gone. Each subprocess gets a temp dir of its own (TMPDIR), so the test sees only its own runs and
touches no other profile folder. Waits poll against a deadline, for a loaded 2-core machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
import yaml

from scraper.browser import CHROMIUM, FLAGS
from scraper.browser_guard import OWNER_FILE, PROFILE_PREFIX, owner_alive

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[2]
DEADLINE_S = 30.0  # an upper bound on a loaded machine; the measured time is in the assertion message

#: Opens chromium() on a page of the demo, says where its profile is, then waits for stdin to close.
HOLDER = """
import json, sys
from scraper.browser import chromium
with chromium(loopback_only=True) as driver:
    driver.get(sys.argv[1])
    print(json.dumps({"profile": driver.capabilities["chrome"]["userDataDir"], "driver": driver.service.process.pid}),
          flush=True)
    sys.stdin.read()
"""


def _wait(what: str, done: Callable[[], object], deadline_s: float = DEADLINE_S,
          detail: Callable[[], object] = lambda: "") -> float:
    start = time.monotonic()
    while not done():
        assert time.monotonic() - start < deadline_s, f"{what}: not within {deadline_s:.0f} s {detail()}"
        time.sleep(0.1)
    return time.monotonic() - start


def _describe(procs: list[psutil.Process]) -> list[str]:
    out = []
    for p in procs:
        with contextlib.suppress(psutil.Error):
            out.append(f"{p.pid} (parent {p.ppid()}, {p.status()}): {' '.join(p.cmdline())[:160]}")
    return out


def run_processes(profile: Path, tmp: Path) -> list[psutil.Process]:
    """This user's processes of the run: the profile folder on the command line, or the run's temp dir inherited in
    the environment (Chromium's crash handler names neither folder on its command line)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "environ", "uids"]):
        cmdline, environ, uids = proc.info["cmdline"] or [], proc.info["environ"] or {}, proc.info["uids"]
        if proc.pid == os.getpid() or uids is None or uids.real != os.getuid():
            continue
        if any(str(profile) in arg for arg in cmdline) or any(v.startswith(str(tmp)) for v in environ.values()):
            found.append(proc)
    return found


def _browsers(procs: list[psutil.Process]) -> list[psutil.Process]:
    """The Chromium and chromedriver processes among ``procs`` that still run (a zombie has ended)."""
    found = []
    for p in procs:
        with contextlib.suppress(psutil.Error):
            if "chrom" in p.name() and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
    return found


@pytest.fixture
def tmp() -> Iterator[Path]:
    """A temp dir of the test's own, with a short path: Chromium's singleton socket path must fit 108 bytes."""
    path = Path(tempfile.mkdtemp(prefix="cb-", dir="/tmp"))
    yield path
    _kill_leftovers(path, None)  # only when a test failed is anything left
    _wait("leftovers gone", lambda: not _browsers(run_processes(path, path)), deadline_s=10)
    shutil.rmtree(path, ignore_errors=True)


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "TMPDIR": str(tmp)}


def _kill_leftovers(tmp: Path, profile: Path | None) -> None:
    """Whatever a failed test left (only processes of this test's own temp dir)."""
    for proc in run_processes(profile or tmp, tmp):
        with contextlib.suppress(psutil.Error):
            proc.kill()


def _holder(url: str, tmp: Path) -> tuple[subprocess.Popen[str], Path, int]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, url], cwd=REPO, env=_env(tmp), text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, "the browser did not start"
    info = json.loads(line)
    return proc, Path(info["profile"]), int(info["driver"])


def test_kill_9_of_a_scrape_takes_its_chromium(marketplace, small_params, tmp_path: Path, tmp: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["marketplace"] = small_params.model_dump()
    params["scrape"]["shards"] = {"delhi": {"profile": "gaadibazaar", "region": "delhi"}}
    (root / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    manifest = root / "data/raw/gaadibazaar/delhi/manifest.csv"
    log = tmp_path / "scrape.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "carid.cli", "scrape", "run", "--shard", "delhi",
                                 "--base-url", marketplace.main], cwd=root, env=_env(tmp), stdout=out,
                                stderr=subprocess.STDOUT)
    profile: Path | None = None
    try:
        def scraping(done: Callable[[], bool]) -> Callable[[], bool]:
            def check() -> bool:
                assert proc.poll() is None, f"the scrape ended early:\n{log.read_text()[-3000:]}"
                return done()
            return check

        def browsing() -> bool:
            nonlocal profile
            folders = list(tmp.glob(PROFILE_PREFIX + "*"))
            profile = folders[0] if folders else None
            return profile is not None and len(_browsers(run_processes(profile, tmp))) >= 3

        _wait("Chromium up for the scrape", scraping(browsing))
        _wait("the first listing stored",
              scraping(lambda: manifest.exists() and len(manifest.read_bytes().splitlines()) > 1))
        assert profile is not None and proc.poll() is None  # killed mid-run, browser open
        assert (profile / OWNER_FILE).exists() and owner_alive(profile)
        before = _browsers(run_processes(profile, tmp))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        took = _wait("no Chromium of the killed scrape left",
                     lambda: not _browsers(run_processes(profile, tmp)) and not profile.exists())
        assert took < DEADLINE_S, f"{len(before)} browser processes were running; all gone after {took:.1f} s"
        assert not _browsers(before)
    finally:
        if proc.poll() is None:
            proc.kill()
        _kill_leftovers(tmp, profile)


def test_kill_9_of_chromedriver_takes_chromium(marketplace, tmp: Path) -> None:
    proc, profile, driver = _holder(marketplace.main + "/", tmp)
    try:
        before = _browsers(run_processes(profile, tmp))
        assert len(before) >= 3 and any(p.pid == driver for p in before)
        os.kill(driver, signal.SIGKILL)
        took = _wait("no Chromium left after chromedriver was killed",
                     lambda: not _browsers(run_processes(profile, tmp)) and not profile.exists())
        assert took < DEADLINE_S, f"{len(before)} browser processes; gone after {took:.1f} s"
        assert proc.poll() is None  # the owner itself lives on; its browser is gone
    finally:
        proc.kill()
        proc.wait(timeout=30)
        _kill_leftovers(tmp, profile)


def _orphan_chromium(profile: Path, tmp: Path) -> subprocess.Popen[bytes]:
    """A real headless Chromium on ``profile`` in a session of its own, as a killed run used to leave behind."""
    return subprocess.Popen([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"], env=_env(tmp),
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_next_run_removes_stale_profiles_and_their_browsers(marketplace, tmp: Path) -> None:
    stale, alive, unowned_old, unowned_new = (tmp / f"{PROFILE_PREFIX}{name}" for name in
                                             ("stale", "alive", "unowned-old", "unowned-new"))
    for folder in (stale, alive, unowned_old, unowned_new):
        folder.mkdir()
    # the owner of `stale` was a real process, now gone; `alive` is owned by this test process
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; from scraper.browser_guard import "
                    "write_owner; write_owner(Path(sys.argv[1]))", str(stale)], cwd=REPO, check=True)
    me = psutil.Process()
    (alive / OWNER_FILE).write_text(json.dumps({"pid": me.pid, "started": me.create_time()}), encoding="utf-8")
    old = time.time() - 7200
    os.utime(unowned_old, (old, old))
    assert owner_alive(stale) is False and owner_alive(alive) is True and owner_alive(unowned_old) is None
    orphan = _orphan_chromium(stale, tmp)
    proc: subprocess.Popen[str] | None = None
    try:
        _wait("the orphan Chromium up", lambda: len(_browsers(run_processes(stale, tmp))) >= 3)
        orphans = _browsers(run_processes(stale, tmp))
        proc, profile, _ = _holder(marketplace.main + "/", tmp)  # the next run
        assert not stale.exists() and not unowned_old.exists()
        # the orphan's processes as they were (the new run's browser inherits the same TMPDIR)
        took = _wait("the stale run's Chromium gone", lambda: not _browsers(orphans),
                     detail=lambda: _describe(_browsers(orphans)))
        assert took < DEADLINE_S
        assert orphan.wait(timeout=10) == -signal.SIGKILL  # the orphan was killed by the next run
        assert alive.exists() and unowned_new.exists() and profile.exists()
        assert proc.stdin is not None
        proc.stdin.close()  # the normal end: the run's folder and browser go too
        assert proc.wait(timeout=60) == 0
        _wait("the finished run's Chromium gone", lambda: not _browsers(run_processes(profile, tmp)))
        assert not profile.exists()
    finally:
        orphan.kill()
        if proc is not None and proc.poll() is None:
            proc.kill()
        _kill_leftovers(tmp, stale)


def test_a_reused_pid_is_not_the_owner(tmp_path: Path) -> None:
    folder = tmp_path / f"{PROFILE_PREFIX}x"
    folder.mkdir()
    (folder / OWNER_FILE).write_text(json.dumps({"pid": os.getpid(), "started": 1.0}), encoding="utf-8")
    assert owner_alive(folder) is False  # same pid, another process (started in 1970)
    (folder / OWNER_FILE).write_text("{not json", encoding="utf-8")
    assert owner_alive(folder) is None
