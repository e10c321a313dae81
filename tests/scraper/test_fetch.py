"""The polite fetcher against the real demo marketplace with faults switched on."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from marketplace.inventory import Inventory, photo_token
from marketplace.server import running_marketplace
from marketplace.store import PhotoStore
from scraper.fetch import Fetcher, FetchError, Politeness
from scraper.images import inspect_image

POLITE = Politeness(user_agent="carid-test", delay_s=0, concurrency=2, timeout_s=10, max_retries=3,
                    backoff_s=0.05, max_retry_after_s=5, max_bytes=2 * 1024 * 1024, allowed_hosts=())


def _served(small_params, tmp_path: Path, *faults: str, rate: float = 1.0):
    params = small_params.model_copy(update={"faults": list(faults), "fault_rate": rate})
    return running_marketplace(params, store=PhotoStore(tmp_path / "cache"))


def _photo(small_params, base: str, k: int = 0) -> str:
    spec = Inventory(small_params).region_listings("delhi")[0].photos[k]
    return f"{base}/media/{photo_token(small_params.seed, spec.photo_id)}.jpg"


def _image(resp):
    return inspect_image(resp.body, resp.content_type, 64)


def test_honours_retry_after(small_params, tmp_path) -> None:
    with _served(small_params, tmp_path, "ratelimit") as urls:
        fetcher = Fetcher(POLITE)
        fetcher.allowed(urls.main + "/")  # robots.txt takes the first (rate-limited) hit
        start = time.monotonic()
        _, info = fetcher.get(_photo(small_params, urls.main), _image)
        assert time.monotonic() - start >= 0.95  # Retry-After: 1, not the 0.05 s backoff
        assert fetcher.stats["retry:http-429"] >= 1 and info.width == 400


@pytest.mark.parametrize(("fault", "reason"), [
    ("error5xx", "http-503"), ("truncate", "undecodable"), ("content-type", "bad-content-type"),
    ("dropped", "broken-body")])
def test_transient_faults_are_retried(small_params, tmp_path, fault: str, reason: str) -> None:
    with _served(small_params, tmp_path, fault) as urls:
        fetcher = Fetcher(POLITE)
        _, info = fetcher.get(_photo(small_params, urls.main), _image)
        assert info.width == 400 and fetcher.stats[f"retry:{reason}"] == 1


def test_gives_up_after_max_retries(small_params, tmp_path) -> None:
    with _served(small_params, tmp_path) as urls:
        fetcher = Fetcher(POLITE)

        def never(resp):
            from scraper.fetch import Retry
            raise Retry("undecodable")

        with pytest.raises(FetchError) as info:
            fetcher.get(_photo(small_params, urls.main), never)
        assert info.value.reason == "gave-up" and fetcher.stats["retry:undecodable"] == POLITE.max_retries + 1


def test_robots_disallow_is_obeyed(small_params, tmp_path) -> None:
    with _served(small_params, tmp_path, "robots-partial") as urls:
        fetcher = Fetcher(POLITE)
        with pytest.raises(FetchError) as info:
            fetcher.get(urls.main + "/media/p/abc.jpg", _image)
        assert info.value.reason == "robots"
        assert fetcher.allowed(_photo(small_params, urls.main))


def test_offsite_redirect_and_size_cap(small_params, tmp_path) -> None:
    with _served(small_params, tmp_path, "redirect-offsite", "oversize") as urls:
        fetcher = Fetcher(POLITE)
        with pytest.raises(FetchError) as info:
            fetcher.get(urls.main + "/media/go/abc.jpg", _image)
        assert info.value.reason == "offsite-redirect"
        with pytest.raises(FetchError) as info:
            fetcher.get(urls.main + "/media/big/abc.jpg", _image)
        assert info.value.reason == "too-large"


def test_unreachable_site(tmp_path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fetcher = Fetcher(POLITE)
    with pytest.raises(FetchError) as info:
        fetcher.allowed(f"http://127.0.0.1:{port}/used-cars/delhi")
    assert info.value.reason == "unreachable" and str(port) in str(info.value)


def test_a_body_that_stalls_times_out_and_is_retried(tmp_path) -> None:
    """Headers arrive, then the body stops coming: a read timeout mid-body, retried, then given up."""
    import dataclasses
    import socket
    import threading

    stop = threading.Event()
    served: list[int] = []

    def answer(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            served.append(1)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 5000\r\n\r\n" + b"\xff" * 100)
            stop.wait(3)

    def stall(listener: socket.socket) -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        threading.Thread(target=stall, args=(listener,), daemon=True).start()
        fetcher = Fetcher(dataclasses.replace(POLITE, timeout_s=0.3, max_retries=1))
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/photo.jpg"
        try:
            with pytest.raises(FetchError) as info:
                fetcher._get(url, _image)  # no robots.txt on this stub: straight to the photo
        finally:
            stop.set()
    assert info.value.reason == "gave-up" and "timeout" in str(info.value)
    assert fetcher.stats["retry:timeout"] == 2 and len(served) == 2
