"""read_ahead: order kept, the producer runs ahead by at most ``depth``, errors forwarded, early exit stops it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from scraper.readahead import read_ahead


def test_items_come_in_order_and_the_next_is_produced_while_this_one_is_used() -> None:
    produced: list[int] = []
    ready = threading.Event()

    def pages() -> Iterator[int]:
        for n in range(4):
            produced.append(n)
            if n == 1:
                ready.set()
            yield n

    seen = []
    for n in read_ahead(pages()):
        if n == 0:
            assert ready.wait(5)  # page 1 loads while page 0 is still being consumed
            assert produced[:2] == [0, 1] and len(produced) <= 3  # depth 1: at most one more queued
        seen.append(n)
    assert seen == [0, 1, 2, 3]


def test_an_error_in_the_producer_is_raised_after_the_items_before_it() -> None:
    def pages() -> Iterator[int]:
        yield 1
        raise ValueError("page 2 of https://example.test/api: not JSON")

    got = []
    with pytest.raises(ValueError, match="page 2"):
        for n in read_ahead(pages()):
            got.append(n)
    assert got == [1]


def test_leaving_early_stops_the_producer() -> None:
    produced: list[int] = []

    def endless() -> Iterator[int]:
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    for n in read_ahead(endless()):
        if n == 2:
            break
    count = len(produced)
    time.sleep(0.2)
    assert len(produced) == count <= 5  # stopped, not running on in the background
    assert not any(t.name == "read-ahead" for t in threading.enumerate())
