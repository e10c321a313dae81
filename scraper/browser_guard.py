"""The guard process that takes a local browser down with its owner, and stale profile cleanup.

chromedriver runs in a session (and process group) of its own, and Chromium's
whole tree (browser, zygotes, GPU, network, renderers) stays in that group: it
double-forks but never calls ``setsid``. A ``PR_SET_PDEATHSIG`` on chromedriver
alone is not enough: chromedriver dies, Chromium is re-parented to init and
keeps running. So ``carid`` starts this small process beside the browser; it
waits for either of two things:

- the end of a pipe that only ``carid`` holds (EOF: ``carid`` closed it, or
  died, even by ``kill -9``), or
- chromedriver's exit (a pidfd; polled where the kernel has none),

then kills chromedriver's process group and every process of this user whose
command line or environment names the run's profile folder (:func:`users_of`),
waits for them to go, and removes the folder. It imports only the standard
library and psutil, and is started by file path, so it is up in well under a
second.

Written by hand: psutil finds and kills processes, but no library ties a process
group's life to another process on Linux without root (cgroups) or a wrapper
around Chromium itself.

A run that was killed before its guard started (or whose guard was killed) is
cleaned up by the next run: each profile folder records its owner (pid and
start time) in ``carid-owner.json``; :func:`remove_stale_profiles` removes the
folders whose owner is gone, with any browser still using them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import select
import shutil
import signal
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

log = logging.getLogger(__name__)
PROFILE_PREFIX = "carid-chromium-"
OWNER_FILE = "carid-owner.json"
#: Set in chromedriver's environment (so in every process of its browser) to the run's profile folder.
PROFILE_ENV = "CARID_BROWSER_PROFILE"
#: A profile folder with no owner file is left alone this long (its creator may not have written it yet).
#: Writing the file takes microseconds after the folder is made; a minute is a margin, not a measurement.
UNOWNED_GRACE_S = 60.0


def write_owner(profile: Path) -> None:
    """Record this process as the owner of ``profile`` (pid and start time, so a reused pid is not mistaken)."""
    me = psutil.Process()
    (profile / OWNER_FILE).write_text(json.dumps({"pid": me.pid, "started": me.create_time()}), encoding="utf-8")


def owner_alive(profile: Path) -> bool | None:
    """True / False when the folder names its owner and that process is / is not running; None when it names none."""
    try:
        owner = json.loads((profile / OWNER_FILE).read_text(encoding="utf-8"))
        pid, started = int(owner["pid"]), float(owner["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        return abs(psutil.Process(pid).create_time() - started) < 1.0
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def profile_users(by_environment: bool = True) -> dict[str, list[psutil.Process]]:
    """This user's processes, per browser profile folder they belong to.

    A process belongs to the folder its command line names as Chromium's ``--user-data-dir``, and to the one its
    environment names in :data:`PROFILE_ENV`: Chromium's crash handler double-forks into a session of its own and
    its command line does not name the profile, but it inherits the environment chromedriver was started with.
    Reading every environment costs several times a command-line scan; ``by_environment=False`` skips it.
    """
    uid, me = os.getuid(), os.getpid()
    found: dict[str, list[psutil.Process]] = {}
    for proc in psutil.process_iter(["uids", "cmdline", "environ"] if by_environment else ["uids", "cmdline"]):
        uids, cmdline, environ = proc.info["uids"], proc.info["cmdline"] or [], proc.info.get("environ") or {}
        if uids is None or uids.real != uid or proc.pid == me:
            continue
        folders = {arg.split("=", 1)[1] for arg in cmdline if arg.startswith("--user-data-dir=")}
        if environ.get(PROFILE_ENV):
            folders.add(environ[PROFILE_ENV])
        for folder in folders:
            found.setdefault(folder, []).append(proc)
    return found


def users_of(profile: Path, by_environment: bool = True) -> list[psutil.Process]:
    """The processes of the browser of ``profile`` (see :func:`profile_users`)."""
    return profile_users(by_environment).get(str(profile), [])


def take_down(profile: Path, pgid: int | None, victims: list[psutil.Process] | None = None,
              timeout_s: float = 10.0) -> int:
    """Kill process group ``pgid`` and every process using ``profile`` (``victims``, else looked up), wait for them
    to end, remove the folder. Returns how many processes were still there to kill.
    """
    if pgid is not None and pgid > 1:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    if victims is None:
        victims = users_of(profile)
    for proc in victims:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            proc.kill()
    deadline = time.monotonic() + timeout_s
    alive = victims
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if _running(p)]
    if alive:
        log.warning("%d browser processes of %s did not exit: %s", len(alive), profile,
                    ", ".join(str(p.pid) for p in alive))
    shutil.rmtree(profile, ignore_errors=True)
    return len(victims)


def _running(proc: psutil.Process) -> bool:
    """Still running: a zombie is done (its parent, maybe not us, has yet to reap it)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def remove_stale_profiles(tmp: Path, grace_s: float = UNOWNED_GRACE_S) -> list[Path]:
    """Remove ``carid-chromium-*`` folders in ``tmp`` whose owner is gone, killing any browser still using them.

    A folder that names no owner (made by an older carid) is removed only when no process uses it and it is older
    than ``grace_s``; its browser, if any, is left alone.
    """
    removed: list[Path] = []
    stale = [f for f in sorted(tmp.glob(PROFILE_PREFIX + "*"))
             if f.is_dir() and not f.is_symlink() and not owner_alive(f)]
    if not stale:
        return removed
    users = profile_users()  # one scan of the process table for all folders
    for folder in stale:
        victims = users.get(str(folder), [])
        if owner_alive(folder) is None:
            try:
                age = time.time() - folder.stat().st_mtime
            except OSError:
                continue
            if age < grace_s or victims:
                continue
        killed = take_down(folder, None, victims)
        log.info("removed stale browser profile %s (owner gone%s)", folder,
                 f"; killed {killed} browser processes still using it" if killed else "")
        removed.append(folder)
    return removed


def _driver_exited(pidfd: int, driver_pid: int) -> bool:
    if pidfd >= 0:
        return bool(select.select([pidfd], [], [], 0)[0])
    try:
        return psutil.Process(driver_pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def watch(owner_fd: int, pidfd: int, driver_pid: int, profile: Path) -> str:
    """Block until the owner's pipe closes or chromedriver exits; then take the browser down. Returns which."""
    waits = [owner_fd] + ([pidfd] if pidfd >= 0 else [])
    poll_s = None if pidfd >= 0 else 0.2  # no pidfd (old kernel): look at chromedriver five times a second
    why = ""
    while not why:
        ready = select.select(waits, [], [], poll_s)[0]
        if owner_fd in ready and not os.read(owner_fd, 64):
            why = "owner closed"
        elif _driver_exited(pidfd, driver_pid):
            why = "chromedriver exited"
    # chromedriver leads its own process group (pgid == its pid). The group is certainly still the browser's while
    # chromedriver runs or while a process using the profile is in it: only then is it killed whole, so a pid the
    # system has handed out again is never signalled.
    ours = not _driver_exited(pidfd, driver_pid) or any(
        _pgid(p.pid) == driver_pid for p in users_of(profile, by_environment=False))
    take_down(profile, driver_pid if ours else None)
    return why


def _pgid(pid: int) -> int:
    try:
        return os.getpgid(pid)
    except OSError:
        return -1


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Take a browser down when its owner or chromedriver goes.")
    parser.add_argument("--owner-fd", type=int, required=True)
    parser.add_argument("--pidfd", type=int, default=-1)
    parser.add_argument("--driver-pid", type=int, required=True)
    parser.add_argument("--profile", type=Path, required=True)
    args = parser.parse_args(argv)
    for sig in (signal.SIGINT, signal.SIGHUP):  # a terminal's Ctrl-C or hangup is for the owner; EOF follows
        signal.signal(sig, signal.SIG_IGN)
    watch(args.owner_fd, args.pidfd, args.driver_pid, args.profile)


if __name__ == "__main__":
    main()
