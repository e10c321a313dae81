"""Bring the embedded demo marketplace up for a scrape, over HTTP only.

The scraper never imports the marketplace package: it starts
``python -m marketplace serve`` as a child process, reads the URLs it
announces, and stops it afterwards, exactly as it would treat any other site.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


class DemoError(RuntimeError):
    pass


#: The demo's sites in port order: site i listens on the main port + i.
SITES = ("main", "hyderabad", "carnest")


def _start(ports: tuple[int, ...], params: Path | None, url_file: Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "marketplace", "serve", "--main-port", str(ports[0]),
           "--hyderabad-port", str(ports[1]), "--carnest-port", str(ports[2]), "--url-file", str(url_file),
           "--parent-pid", str(os.getpid())]
    if params is not None and params.exists():
        cmd += ["--params", str(params)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@contextmanager
def demo_marketplace(which: str, preferred_url: str, params: Path | None) -> Iterator[str]:
    """Serve the demo; yields the base URL of site ``which`` (one of :data:`SITES`).

    The profile's port is tried first, so manifests from repeated runs carry the
    same URLs; if it is taken, any free port is used.
    """
    if which not in SITES:
        raise DemoError(f"demo site {which!r} is not one of {', '.join(SITES)}")
    port = urlsplit(preferred_url).port or 0
    first = port - SITES.index(which)
    preferred = tuple(first + i for i in range(len(SITES))) if port else (0,) * len(SITES)
    with tempfile.TemporaryDirectory(prefix="carid-demo-") as tmp:
        url_file = Path(tmp) / "urls.json"
        proc = None
        for ports in (preferred, (0,) * len(SITES)):
            proc = _start(ports, params, url_file)
            deadline = time.monotonic() + 60
            while not url_file.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if url_file.exists():
                break
            proc.kill()
            err = proc.communicate()[1].strip().splitlines()
            log.info("demo marketplace on ports %s did not start (%s); trying free ports",
                     ports, err[-1] if err else "no output")
            proc = None
        if proc is None:
            raise DemoError("the embedded demo marketplace did not start (python -m marketplace serve)")
        try:
            yield json.loads(url_file.read_text(encoding="utf-8"))[which]
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
