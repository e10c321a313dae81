"""Micro-batching: photos from concurrent requests share one model call.

The first photo to arrive opens a batch; the batch runs once it holds ``max_batch`` photos,
once ``max_wait_ms`` has passed, or at once when no other request is on its way (announced
with :meth:`MicroBatcher.incoming` while it is read and decoded), whichever comes first: a
lone client never waits, and photos of requests already being read ride along. Photos that
arrive while a batch is in the model wait for the next one, so under load batches fill
without waiting at all. The model
runs in a worker thread (onnxruntime releases the GIL), one batch at a time, so the event loop
keeps accepting and decoding requests meanwhile. Written by hand because it is a few lines of
asyncio and the libraries that offer it come with a serving framework of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)

RunFn = Callable[[np.ndarray], np.ndarray]


@dataclass
class BatchStats:
    batches: int = 0
    photos: int = 0
    largest: int = 0
    sizes: dict[int, int] = field(default_factory=dict)  # batch size -> how many batches had it


class MicroBatcher:
    """Collects photos into batches for ``run`` (uint8 (n, s, s, 3) -> float (n,)). Use inside one event loop."""

    def __init__(self, run: RunFn, max_batch: int, max_wait_ms: float) -> None:
        self._run = run
        self._max_batch = max_batch
        self._max_wait = max_wait_ms / 1000.0
        # a deque and an event rather than asyncio.Queue + wait_for: a timed-out wait_for on Queue.get can drop
        # an item on Python 3.11; waiting on an event loses nothing, since the photos stay in the deque
        self._pending: deque[tuple[np.ndarray, asyncio.Future[float]]] = deque()
        self._arrived = asyncio.Event()
        self._busy = False
        self._incoming = 0  # requests being read or decoded: their photos are on the way
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="carid-model")
        self._task: asyncio.Task[None] | None = None
        self.stats = BatchStats()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="carid-batcher")

    async def stop(self) -> None:
        """Finish what is queued and in the model, then stop the worker."""
        while self._pending or self._busy:
            await asyncio.sleep(0.005)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._executor.shutdown(wait=True)

    @contextlib.contextmanager
    def incoming(self) -> Iterator[None]:
        """Announce a request whose photos will come soon, so an open batch waits for them (up to max_wait)."""
        self._incoming += 1
        try:
            yield
        finally:
            self._incoming -= 1
            if not self._incoming:
                self._arrived.set()  # nothing more on the way: an open batch need not wait

    async def predict(self, photos: list[np.ndarray]) -> list[float]:
        """P(second class) for each photo, in order."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[float]] = []
        for photo in photos:
            fut: asyncio.Future[float] = loop.create_future()
            self._pending.append((photo, fut))
            futures.append(fut)
        self._arrived.set()
        return list(await asyncio.gather(*futures))

    async def _wait_for_arrival(self, timeout: float | None) -> bool:
        self._arrived.clear()
        try:
            await asyncio.wait_for(self._arrived.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def _collect(self) -> list[tuple[np.ndarray, asyncio.Future[float]]]:
        while not self._pending:
            await self._wait_for_arrival(None)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._max_wait
        while len(self._pending) < self._max_batch and self._incoming:
            left = deadline - loop.time()
            if left <= 0 or not await self._wait_for_arrival(left):
                break
        n = min(self._max_batch, len(self._pending))
        return [self._pending.popleft() for _ in range(n)]

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._collect()
            live = [(x, f) for x, f in batch if not f.done()]  # a client that went away cancels its futures
            if not live:
                continue
            self._busy = True
            try:
                probs = await loop.run_in_executor(self._executor, self._run, np.stack([x for x, _ in live]))
            except Exception as exc:  # a model error fails this batch's requests, never the service
                log.exception("model call failed for a batch of %d", len(live))
                for _, fut in live:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            finally:
                self._busy = False
            self._count(len(live))
            for (_, fut), p in zip(live, probs, strict=True):
                if not fut.done():
                    fut.set_result(float(p))

    def _count(self, n: int) -> None:
        s = self.stats
        s.batches += 1
        s.photos += n
        s.largest = max(s.largest, n)
        s.sizes[n] = s.sizes.get(n, 0) + 1
