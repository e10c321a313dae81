"""Micro-batching: concurrent photos share model calls, answers keep their order, a failed call fails its batch."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from serving.batcher import MicroBatcher


class Recorder:
    """A model stand-in written for the test: P = the photo's first pixel / 255; remembers each batch size."""

    def __init__(self, delay: float = 0.0, fail_on: int = -1) -> None:
        self.sizes: list[int] = []
        self.delay = delay
        self.fail_on = fail_on
        self.lock = threading.Lock()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        with self.lock:
            self.sizes.append(len(x))
        time.sleep(self.delay)
        if self.fail_on in x[:, 0, 0, 0]:
            raise RuntimeError("model failed")
        return x[:, 0, 0, 0].astype(np.float32) / 255.0


def photo(v: int) -> np.ndarray:
    return np.full((4, 4, 3), v, np.uint8)


def run(coro_fn, *args):
    return asyncio.run(coro_fn(*args))


def test_concurrent_requests_are_batched_up_to_the_cap_in_order() -> None:
    rec = Recorder(delay=0.01)

    async def main() -> list[list[float]]:
        b = MicroBatcher(rec, max_batch=8, max_wait_ms=20)
        b.start()
        results = await asyncio.gather(*(b.predict([photo(i), photo(i + 100)]) for i in range(20)))
        await b.stop()
        assert b.stats.photos == 40 and b.stats.largest <= 8
        return results

    results = run(main)
    assert results == [[pytest.approx(i / 255), pytest.approx((i + 100) / 255)] for i in range(20)]
    assert sum(rec.sizes) == 40
    assert max(rec.sizes) == 8  # 40 photos at once fill batches up to the cap ...
    assert len(rec.sizes) <= 6  # ... instead of one model call per request


def test_a_lone_photo_does_not_wait_when_nothing_else_is_on_its_way() -> None:
    rec = Recorder()

    async def main() -> float:
        b = MicroBatcher(rec, max_batch=64, max_wait_ms=2000)
        b.start()
        t0 = time.perf_counter()
        await b.predict([photo(3)])
        took = time.perf_counter() - t0
        await b.stop()
        return took

    assert run(main) < 1.0
    assert rec.sizes == [1]


def test_an_open_batch_waits_for_an_announced_request_up_to_max_wait() -> None:
    rec = Recorder()

    async def main() -> tuple[float, float]:
        b = MicroBatcher(rec, max_batch=64, max_wait_ms=3000)
        b.start()
        t0 = time.perf_counter()

        async def late() -> list[float]:
            with b.incoming():
                await asyncio.sleep(0.3)  # reading and decoding its photo
            return await b.predict([photo(9)])

        both = await asyncio.gather(b.predict([photo(4)]), late())
        took = time.perf_counter() - t0
        assert both == [[pytest.approx(4 / 255)], [pytest.approx(9 / 255)]]
        # an announced request that never sends (a refused upload) releases the batch at once, not after max_wait
        t1 = time.perf_counter()
        with b.incoming():
            lone = asyncio.ensure_future(b.predict([photo(5)]))
            await asyncio.sleep(0.2)
        await lone
        released = time.perf_counter() - t1
        await b.stop()
        return took, released

    took, released = run(main)
    assert rec.sizes[0] == 2  # the early photo waited for the announced one
    assert 0.3 <= took < 2.5
    assert released < 1.5


def test_max_wait_caps_the_wait_for_announced_requests() -> None:
    rec = Recorder()

    async def main() -> float:
        b = MicroBatcher(rec, max_batch=64, max_wait_ms=100)
        b.start()
        with b.incoming():  # announced, but slower than max_wait
            t0 = time.perf_counter()
            await b.predict([photo(1)])
            took = time.perf_counter() - t0
        await b.stop()
        return took

    assert 0.09 <= run(main) < 1.0
    assert rec.sizes == [1]


def test_a_full_batch_does_not_wait() -> None:
    rec = Recorder()

    async def main() -> float:
        b = MicroBatcher(rec, max_batch=4, max_wait_ms=2000)
        b.start()
        t0 = time.perf_counter()
        await b.predict([photo(i) for i in range(4)])
        took = time.perf_counter() - t0
        await b.stop()
        return took

    assert run(main) < 1.0
    assert rec.sizes == [4]


def test_a_failing_model_call_fails_its_callers_and_the_batcher_goes_on() -> None:
    rec = Recorder(fail_on=7)

    async def main() -> tuple[BaseException | list[float], list[float]]:
        b = MicroBatcher(rec, max_batch=4, max_wait_ms=0)
        b.start()
        bad = await asyncio.gather(b.predict([photo(7)]), return_exceptions=True)
        good = await b.predict([photo(51)])
        await b.stop()
        return bad[0], good

    bad, good = run(main)
    assert isinstance(bad, RuntimeError)
    assert good == [pytest.approx(51 / 255)]


def test_stop_finishes_what_is_queued() -> None:
    rec = Recorder(delay=0.05)

    async def main() -> list[float]:
        b = MicroBatcher(rec, max_batch=2, max_wait_ms=0)
        b.start()
        task = asyncio.gather(*(b.predict([photo(i)]) for i in range(6)))
        await asyncio.sleep(0)  # the photos are queued, the first batch is in the model
        await b.stop()
        return [p for group in await task for p in group]

    assert run(main) == [pytest.approx(i / 255) for i in range(6)]
