"""robots.txt decided the RFC 9309 way (protego), in the cases where the standard library's parser decides otherwise,
over real HTTP through the fetcher, with Crawl-delay honoured, and against the real demo marketplace."""

from __future__ import annotations

import itertools
import threading
import time
import urllib.robotparser
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from marketplace.server import running_marketplace
from marketplace.store import PhotoStore
from scraper.fetch import Fetcher, FetchError, Politeness
from scraper.robots import RobotsRules, product_token

AGENT = "carid-test/0.1"
POLITE = Politeness(user_agent=AGENT, delay_s=0, concurrency=2, timeout_s=10, max_retries=1,
                    backoff_s=0.05, max_retry_after_s=5, max_bytes=1024 * 1024, allowed_hosts=())

#: (robots.txt, path, allowed by RFC 9309). Each is a case where urllib.robotparser decides the other way.
DIFFERING = {
    "longest match: a longer Allow beats a shorter Disallow listed first": (
        "User-agent: *\nDisallow: /cars/\nAllow: /cars/photos/\n", "/cars/photos/1.jpg", True),
    "longest match: a longer Disallow beats a shorter Allow listed first": (
        "User-agent: *\nAllow: /cars/\nDisallow: /cars/private/\n", "/cars/private/1.jpg", False),
    "Allow wins a tie of equal length": (
        "User-agent: *\nDisallow: /media/\nAllow: /media/\n", "/media/1.jpg", True),
    "* inside a path matches any run of characters": (
        "User-agent: *\nDisallow: /listing/*/contact\n", "/listing/42/contact", False),
    "* wildcard for a suffix": (
        "User-agent: *\nDisallow: /*.png\n", "/media/abc/logo.png", False),
    "$ anchors the end: the folder itself is disallowed": (
        "User-agent: *\nDisallow: /search$\n", "/search", False),
    "$ anchors the end: longer paths stay allowed": (
        "User-agent: *\nDisallow: /\nAllow: /*.jpg$\n", "/media/abc.jpg", True),
    "groups naming the same crawler are merged": (
        "User-agent: carid-test\nDisallow: /a/\n\nUser-agent: *\nDisallow: /\n\nUser-agent: carid-test\n"
        "Disallow: /b/\n", "/b/page", False),
}


@pytest.mark.parametrize("case", list(DIFFERING))
def test_rfc_9309_where_the_standard_library_differs(case: str) -> None:
    text, path, rfc = DIFFERING[case]
    url = "http://127.0.0.1:8000" + path
    assert RobotsRules.parse(text).allowed(url, AGENT) is rfc, case
    stdlib = urllib.robotparser.RobotFileParser()
    stdlib.parse(text.splitlines())
    assert stdlib.can_fetch(AGENT, url) is (not rfc), f"{case}: not a case where the two parsers differ"


def test_product_token_and_crawl_delay() -> None:
    assert product_token("carid-scraper/0.1 (+https://example.invalid)") == "carid-scraper"
    rules = RobotsRules.parse("User-agent: other\nCrawl-delay: 9\n\nUser-agent: carid-scraper\nCrawl-delay: 0.5\n"
                              "Disallow: /x\n")
    assert rules.crawl_delay("carid-scraper/0.1") == 0.5
    assert not rules.allowed("http://h/x", "carid-scraper/0.1") and rules.allowed("http://h/x", "someone-else/1")
    assert RobotsRules.parse("User-agent: *\nDisallow:\n").crawl_delay(AGENT) == 0.0


@contextmanager
def stub_site(routes: dict[str, tuple[int, str]]) -> Iterator[tuple[str, list[tuple[float, str]]]]:
    """A plain HTTP server on a free loopback port; yields its URL and a log of (monotonic time, path) per request."""
    hits: list[tuple[float, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append((time.monotonic(), self.path))
            status, body = routes.get(self.path, (404, "not found"))
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html" if body.startswith("<html") else "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def _text(resp) -> str:
    return resp.body.decode()


def test_fetcher_decides_over_http_the_rfc_way() -> None:
    robots = "User-agent: *\nDisallow: /cars/\nAllow: /cars/photos/\nDisallow: /*.png$\n"
    pages = {"/robots.txt": (200, robots), "/cars/photos/1.jpg": (200, "photo"), "/cars/list": (200, "list"),
             "/logo.png": (200, "png"), "/logo.png?v=2": (200, "png2")}
    with stub_site(pages) as (base, hits):
        fetcher = Fetcher(POLITE)
        assert fetcher.get(base + "/cars/photos/1.jpg", _text)[1] == "photo"  # stdlib: forbidden (first match)
        assert fetcher.get(base + "/logo.png?v=2", _text)[1] == "png2"  # the $ anchor: a query follows
        for path in ("/cars/list", "/logo.png"):
            with pytest.raises(FetchError) as info:
                fetcher.get(base + path, _text)
            assert info.value.reason == "robots"
        assert [p for _, p in hits] == ["/robots.txt", "/cars/photos/1.jpg", "/logo.png?v=2"]  # one robots.txt


@pytest.mark.parametrize(("delay_s", "crawl_delay"), [(0.0, 0.4), (0.6, 0.2)])
def test_crawl_delay_spaces_requests_the_larger_wins(delay_s: float, crawl_delay: float) -> None:
    pages = {"/robots.txt": (200, f"User-agent: *\nCrawl-delay: {crawl_delay}\nAllow: /\n")}
    pages |= {f"/p{k}": (200, str(k)) for k in range(4)}
    polite = Politeness(**{**POLITE.__dict__, "delay_s": delay_s, "concurrency": 4})
    with stub_site(pages) as (base, hits):
        fetcher = Fetcher(polite)
        # four workers at once: the crawl delay holds for the origin, not per thread
        threads = [threading.Thread(target=fetcher.get, args=(f"{base}/p{k}", _text)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    times = sorted(t for t, p in hits if p != "/robots.txt")
    assert len(times) == 4
    assert [p for _, p in hits].count("/robots.txt") == 1  # fetched once, though four workers asked at once
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # server-side arrival times: 0.1 s of slack for a loaded machine (without pacing the gaps are ~0)
    assert min(gaps) >= crawl_delay - 0.1, gaps  # Crawl-delay holds for the origin, across the workers
    robots_at = next(t for t, p in hits if p == "/robots.txt")
    assert times[0] - robots_at >= max(delay_s, crawl_delay) - 0.1  # the robots.txt request counts as one


def test_robots_txt_missing_allows_failing_disallows() -> None:
    with stub_site({"/page": (200, "ok")}) as (base, _):  # 404 for robots.txt: "unavailable"
        assert Fetcher(POLITE).allowed(base + "/page")
    with stub_site({"/robots.txt": (503, "down"), "/page": (200, "ok")}) as (base, hits):
        fetcher = Fetcher(POLITE)
        assert not fetcher.allowed(base + "/page")  # "unreachable" after every retry: complete disallow
        assert fetcher.robots(base + "/").source.startswith("unreachable")
        assert [p for _, p in hits] == ["/robots.txt"] * (POLITE.max_retries + 1)


def test_demo_marketplace_robots_over_http(small_params, tmp_path: Path) -> None:
    params = small_params.model_copy(update={"faults": ["robots-partial"], "fault_rate": 1.0})
    with running_marketplace(params, store=PhotoStore(tmp_path / "cache")) as urls:
        fetcher = Fetcher(POLITE)
        rules = fetcher.robots(urls.main + "/")
        assert rules.source == "robots.txt" and rules.crawl_delay(AGENT) == 0.0
        assert not fetcher.allowed(urls.main + "/media/p/abc.jpg")
        assert not fetcher.allowed(urls.main + "/admin/")
        assert fetcher.allowed(urls.main + "/media/abc.jpg") and fetcher.allowed(urls.main + "/admin")
        assert fetcher.robots(urls.hyderabad + "/") is not rules  # each origin reads its own file
        assert not fetcher.allowed(urls.hyderabad + "/api/internal/x")
