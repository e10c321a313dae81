"""Polite HTTP with requests: robots.txt, retries with backoff, redirect and size limits.

Retries honour ``Retry-After`` on 429 and back off exponentially on 5xx,
timeouts, connections dropped mid-body and bodies that fail validation (a
truncated image or an HTML error page served as a photo is usually transient).
Redirects are followed by hand so that a hop to another host is refused unless
the profile allows it.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.request
import urllib.robotparser
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Politeness:
    user_agent: str
    delay_s: float  # pause before each request, per worker
    concurrency: int  # parallel requests per host
    timeout_s: float
    max_retries: int
    backoff_s: float  # first backoff; doubles on each retry
    max_retry_after_s: float  # cap on a server's Retry-After
    max_bytes: int  # bodies above this are cut off and rejected
    allowed_hosts: tuple[str, ...]  # extra hosts redirects may go to


class FetchError(Exception):
    """A URL that could not be fetched; ``reason`` is a short tag for the summary."""

    def __init__(self, url: str, reason: str, detail: str = "") -> None:
        super().__init__(f"{url}: {reason}{': ' + detail if detail else ''}")
        self.url = url
        self.reason = reason


class Retry(Exception):
    """Raised by a body check to ask for another attempt (e.g. a truncated image)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Response:
    url: str  # final URL after allowed redirects
    status: int
    content_type: str
    body: bytes
    retry_after: float = 0.0  # seconds, from a Retry-After header


class Fetcher:
    """One pooled requests session per run, shared by worker threads."""

    def __init__(self, politeness: Politeness) -> None:
        self.p = politeness
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=8, pool_maxsize=max(8, politeness.concurrency * 2), max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = politeness.user_agent
        # Proxy settings come from the environment once, here, not on every request
        # (requests' per-request lookup scans os.environ and cost ~15% of a loopback photo fetch).
        self.session.proxies.update(urllib.request.getproxies())
        self.session.trust_env = False
        self.stats: Counter[str] = Counter()
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._lock = threading.Lock()

    # -- robots.txt ---------------------------------------------------------------------------
    def robots(self, url: str) -> urllib.robotparser.RobotFileParser:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            parser = self._robots.get(origin)
        if parser is not None:
            return parser
        parser = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
        try:
            resp, _ = self._get(origin + "/robots.txt", accept=lambda r: None)
            parser.parse(resp.body.decode("utf-8", "replace").splitlines())
        except FetchError as exc:
            if exc.reason == "unreachable":
                raise
            # No robots.txt (4xx) or none to be had: everything is allowed.
            parser.allow_all = True  # type: ignore[attr-defined]  # stdlib attribute, not in typeshed
        with self._lock:
            self._robots[origin] = parser
        return parser

    def allowed(self, url: str) -> bool:
        return self.robots(url).can_fetch(self.p.user_agent, url)

    # -- fetching -----------------------------------------------------------------------------
    def get(self, url: str, accept: Callable[[Response], T]) -> tuple[Response, T]:
        """GET ``url`` politely; ``accept`` validates the body (raise :class:`Retry` to try again).

        Raises :class:`FetchError` when robots.txt forbids it or when every attempt failed.
        """
        if not self.allowed(url):
            raise FetchError(url, "robots")
        return self._get(url, accept)

    def _get(self, url: str, accept: Callable[[Response], T]) -> tuple[Response, T]:
        attempt = 0
        while True:
            if self.p.delay_s:
                time.sleep(self.p.delay_s)
            wait = self.p.backoff_s * (2 ** attempt)
            try:
                resp = self._once(url)
                if resp.status == 429:
                    wait = min(max(resp.retry_after, wait), self.p.max_retry_after_s)
                    raise Retry("http-429")
                if resp.status >= 500:
                    raise Retry(f"http-{resp.status}")
                if resp.status >= 400:
                    raise FetchError(url, f"http-{resp.status}")
                return resp, accept(resp)
            except Retry as exc:
                reason = exc.reason
            except (requests.Timeout, urllib3.exceptions.TimeoutError):
                reason = "timeout"
            except requests.ConnectionError as exc:
                if attempt >= self.p.max_retries:
                    raise FetchError(url, "unreachable", str(exc).split("(")[0]) from None
                reason = "connection"
            except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError):
                reason = "broken-body"  # the connection dropped mid-body, or a bad gzip stream
            self._count(f"retry:{reason}")
            attempt += 1
            if attempt > self.p.max_retries:
                raise FetchError(url, "gave-up", f"last problem {reason} after {attempt} attempts")
            log.debug("retrying %s in %.2fs (%s)", url, wait, reason)
            time.sleep(wait)

    def _once(self, url: str) -> Response:
        """One GET with hand-followed redirects and a streamed size cap."""
        for _hop in range(6):
            with self.session.get(url, timeout=self.p.timeout_s, stream=True, allow_redirects=False) as r:
                if r.is_redirect:
                    target = urljoin(url, r.headers.get("location", ""))
                    if not self._same_or_allowed(url, target):
                        raise FetchError(url, "offsite-redirect", f"to {target}")
                    url = target
                    continue
                declared = r.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.p.max_bytes:
                    raise FetchError(url, "too-large", f"{declared} bytes declared, cap {self.p.max_bytes}")
                # One bounded read (not iter_content's chunk loop, which cost ~10% of a loopback
                # photo fetch); a body longer than the cap is never read past cap + 1 bytes.
                body = r.raw.read(self.p.max_bytes + 1, decode_content=True)
                if len(body) > self.p.max_bytes:
                    raise FetchError(url, "too-large", f"over {self.p.max_bytes} bytes")
                return Response(url, r.status_code, r.headers.get("content-type", ""), body,
                                _parse_retry_after(r.headers.get("retry-after")))
        raise FetchError(url, "redirect-loop")

    def _same_or_allowed(self, src: str, dst: str) -> bool:
        host = urlsplit(dst).hostname or ""
        return host == urlsplit(src).hostname or host in self.p.allowed_hosts

    def _count(self, key: str) -> None:
        with self._lock:
            self.stats[key] += 1


def _parse_retry_after(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return 0.0
