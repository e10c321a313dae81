"""Polite HTTP with requests: robots.txt (RFC 9309), retries with backoff, redirect and size limits.

robots.txt is decided by :mod:`scraper.robots` (protego). A ``Crawl-delay`` spaces
the requests to its origin at least that far apart across all worker threads, on
top of the per-worker ``delay_s`` pause, so the larger of the two always holds.

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
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from scraper.robots import RobotsRules

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
        self._robots: dict[str, RobotsRules] = {}
        self._next_slot: dict[str, float] = {}  # origin -> monotonic time its next request may start
        self._lock = threading.Lock()
        self._robots_lock = threading.Lock()  # one robots.txt fetch at a time: workers starting together wait

    # -- robots.txt ---------------------------------------------------------------------------
    def robots(self, url: str) -> RobotsRules:
        """The robots.txt rules of ``url``'s origin, fetched once per run.

        Raises :class:`FetchError` (``unreachable``) when the host refuses connections.
        """
        origin = _origin(url)
        with self._lock:
            rules = self._robots.get(origin)
        if rules is not None:
            return rules
        with self._robots_lock:
            with self._lock:
                rules = self._robots.get(origin)
            if rules is not None:  # another worker fetched it meanwhile
                return rules
            rules = self._fetch_robots(origin)
            gap = rules.crawl_delay(self.p.user_agent)
            with self._lock:
                self._robots[origin] = rules
                if gap:
                    self._next_slot[origin] = time.monotonic() + gap  # fetching robots.txt was a request too
        if gap > self.p.delay_s:
            log.info("%s asks for Crawl-delay %g s: requests to it are spaced that far apart", origin, gap)
        return rules

    def _fetch_robots(self, origin: str) -> RobotsRules:
        try:
            resp, _ = self._get(origin + "/robots.txt", accept=lambda r: None)
        except FetchError as exc:
            if exc.reason == "unreachable":
                raise
            if exc.reason == "gave-up":  # 5xx, 429 or timeouts on every attempt
                log.warning("%s/robots.txt: %s; RFC 9309: assuming complete disallow", origin, exc)
                return RobotsRules.unreachable(str(exc))
            # 4xx, a redirect off the site or in a loop, too large: no usable file, nothing forbidden
            return RobotsRules.unavailable(exc.reason)
        return RobotsRules.parse(resp.body.decode("utf-8", "replace"))

    def allowed(self, url: str) -> bool:
        return self.robots(url).allowed(url, self.p.user_agent)

    def pace(self, url: str) -> None:
        """Wait until a request to ``url`` is polite: ``delay_s``, then the origin's ``Crawl-delay`` slot.

        Every request of :meth:`get` passes here; a page loaded by the browser should too.
        """
        if self.p.delay_s:
            time.sleep(self.p.delay_s)
        origin = _origin(url)
        with self._lock:
            rules = self._robots.get(origin)
            gap = rules.crawl_delay(self.p.user_agent) if rules is not None else 0.0
            if not gap:
                return
            now = time.monotonic()
            slot = max(now, self._next_slot.get(origin, now))
            self._next_slot[origin] = slot + gap
        if slot > now:
            time.sleep(slot - now)

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
            self.pace(url)
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


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


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
