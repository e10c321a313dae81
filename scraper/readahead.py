"""Read one item ahead in a thread: the next listing page loads while this page's photos download.

Written here because neither the standard library nor the project's dependencies have a bounded read-ahead
iterator that forwards the producer's exception and stops it when the consumer leaves early; it is a queue and a
thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from typing import TypeVar

T = TypeVar("T")
_END = object()


def read_ahead(items: Iterable[T], depth: int = 1) -> Generator[T, None, None]:
    """Yield ``items`` in order while a thread already produces up to ``depth`` more. An exception raised by
    ``items`` is raised here, after the items before it; leaving early (break, an error, Ctrl-C) stops the thread
    at its next item."""
    slots: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[object, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_END, None))
        except BaseException as exc:  # forwarded to the consumer, which raises it
            put((_END, exc))

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = slots.get()
            if item is _END:
                if exc is not None:
                    raise exc
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()
