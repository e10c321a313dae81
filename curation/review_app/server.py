"""Run the review page: bind, print the URL, serve until Ctrl-C (or, for tests and benchmarks, in a thread)."""

from __future__ import annotations

import ipaddress
import logging
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import uvicorn
from starlette.types import ASGIApp

from curation.review_app.app import build_app
from curation.review_app.data import Review, load_review
from curation.review_app.thumbs import ThumbCache

log = logging.getLogger(__name__)
LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8765


class ServeError(Exception):
    """The page cannot be served (address in use, bad host); one line."""


@dataclass(frozen=True)
class ReviewPaths:
    root: Path  # project root: manifest paths are relative to it
    raw: Path  # data/raw
    review_csv: Path  # data/curated/review.csv
    audit_csv: Path  # data/curated/audit.csv (read only when present)
    decisions: Path  # data/curation/decisions.csv


@dataclass(frozen=True)
class Served:
    url: str  # what to open (with the token when there is one)
    host: str
    port: int
    token: str | None


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket (IPv4 or IPv6 by the host's form); port 0 picks a free one."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host.strip("[]")).version == 6 else socket.AF_INET
    except ValueError:
        raise ServeError(f"--host must be an IP address such as 127.0.0.1 or 0.0.0.0 (got {host!r})") from None
    # IPPROTO_TCP: asyncio sets TCP_NODELAY only on such sockets; without it keep-alive replies wait ~40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        hint = "; give another --port (0 picks a free one)" if exc.errno in (98, 48) else ""
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}{hint}") from None
    sock.listen(128)
    return sock


def url_of(host: str, port: int, token: str | None) -> str:
    shown = socket.gethostname() if host in ("0.0.0.0", "::") else (f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # serve_review owns the signals
        pass


def _server(app: ASGIApp) -> _Server:
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", proxy_headers=False,
                            timeout_graceful_shutdown=5)
    return _Server(config)


def make_app(paths: ReviewPaths, thumbs: ThumbCache, token: str | None, port: int) -> tuple[ASGIApp, Review]:
    review = load_review(paths.root, paths.raw, paths.review_csv, paths.audit_csv)
    return build_app(review, paths.decisions, thumbs, token, port), review


@contextmanager
def running_review(paths: ReviewPaths, host: str = LOOPBACK, port: int = 0, token: str | None = None,
                   thumbs: ThumbCache | None = None) -> Iterator[Served]:
    """Serve the page in a background thread until the block exits (tests, benchmarks, screenshots)."""
    sock = bind(host, port)
    port = sock.getsockname()[1]
    app, _ = make_app(paths, thumbs or ThumbCache(), token, port)
    server = _server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise ServeError("the review page did not start")
            time.sleep(0.01)
        yield Served(url_of(host, port, token), host, port, token)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def serve_review(paths: ReviewPaths, host: str | None = None, port: int = DEFAULT_PORT,
                 thumbs: ThumbCache | None = None, on_ready: Callable[[Served, Review], None] | None = None) -> None:
    """Serve the page in this thread until SIGINT (Ctrl-C) or SIGTERM, then stop cleanly.

    Without ``host`` it binds 127.0.0.1 and needs no token; with ``host`` a fresh random token is required from
    every client that is not local (see :mod:`curation.review_app.app`). In-flight writes finish before it returns.
    """
    token = secrets.token_urlsafe(18) if host is not None else None
    sock = bind(host or LOOPBACK, port)
    port = sock.getsockname()[1]
    app, review = make_app(paths, thumbs or ThumbCache(), token, port)
    server = _server(app)

    def stop(signum: int, frame: FrameType | None) -> None:
        if server.should_exit:  # a second Ctrl-C: do not wait for open connections
            server.force_exit = True
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        served = Served(url_of(host or LOOPBACK, port, token), host or LOOPBACK, port, token)
        if on_ready is not None:
            on_ready(served, review)
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
