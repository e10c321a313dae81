"""Worker processes for curation's CPU-bound steps after the fingerprints: near-duplicate verification and the keep
rule (:mod:`curation.dedup`).

Both steps split into independent jobs (a connected component of the candidate graph, a cluster), each needing the
decodes of its own photos only. :func:`balanced` groups the jobs into a few chunks of about equal work (longest job
first onto the least loaded chunk, the classic LPT rule), and :func:`pool_map` runs one function over the chunks in
``workers`` processes, each with one BLAS thread (:func:`one_blas_thread`, which the fingerprint pool of
:mod:`curation.hashing` starts its workers with too), results in chunk order. The standard library's process pool does
the work; what is here is only the grouping, so that every photo is decoded in one process and a chunk is big enough
that sending it costs little beside its decodes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from threadpoolctl import threadpool_limits

T = TypeVar("T")
R = TypeVar("R")

CHUNKS_PER_WORKER = 4  # more chunks than workers, so that one slow chunk does not leave a core idle at the end


def one_blas_thread() -> None:
    """Worker initializer: the matrix products are small, and BLAS threads would only fight the other workers for
    the same cores."""
    threadpool_limits(1)


def balanced(weights: Sequence[float], bins: int) -> list[list[int]]:
    """Indices of ``weights`` in at most ``bins`` groups of about equal total weight (heaviest item first onto the
    lightest group); each group's indices ascending, the heaviest group first, empty groups dropped."""
    groups: list[list[int]] = [[] for _ in range(max(1, bins))]
    load = [0.0] * len(groups)
    for k in sorted(range(len(weights)), key=lambda k: -weights[k]):
        lightest = min(range(len(groups)), key=load.__getitem__)
        groups[lightest].append(k)
        load[lightest] += weights[k]
    order = sorted((g for g in range(len(groups)) if groups[g]), key=lambda g: -load[g])
    return [sorted(groups[g]) for g in order]


def pool_map(fn: Callable[[T], R], chunks: Sequence[T], workers: int) -> list[R]:
    """``[fn(c) for c in chunks]``, over ``workers`` processes (one BLAS thread each)."""
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(chunks))), initializer=one_blas_thread) as pool:
        return list(pool.map(fn, chunks))
