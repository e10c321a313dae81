"""Switchable faults, so the scraper has real trouble to survive.

Transient faults (rate limits, 5xx, truncated bodies, connections dropped
mid-body, wrong content types, slow answers) hit a stable share of URLs on
their first request only: a polite client that retries gets the real answer,
so a faulty run can end with the same data as a clean one. Hostile faults add
extra gallery entries that a careful client must refuse (bombs, oversized
bodies, off-site redirects).

All three sites use one injector each with the same switches. On Carnest the
transient faults also hit its JSON API and its thumbnails (each URL, query
included, fails on its first request), and the hostile extras appear in every
form its galleries take (JSON-LD, the JavaScript state, the gallery endpoint
and the search API's ``images``).
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from dataclasses import dataclass, field

TRANSIENT = ("ratelimit", "error5xx", "slow", "truncate", "dropped", "content-type")


def _share(*parts: object) -> float:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class FaultInjector:
    """Decides, per request, which fault (if any) to apply."""

    enabled: frozenset[str]
    rate: float
    seed: int
    _attempts: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, name: str) -> bool:
        return name in self.enabled

    def pick(self, url_path: str) -> str | None:
        """The transient fault to apply to this request of ``url_path``, or None.

        Only the first request of a path can fail, so retries always succeed.
        """
        if self.enabled.isdisjoint(TRANSIENT):  # the common case: no bookkeeping on the hot path
            return None
        with self._lock:
            self._attempts[url_path] += 1
            attempt = self._attempts[url_path]
        if attempt > 1:
            return None
        for name in TRANSIENT:
            if name in self.enabled and _share(self.seed, name, url_path) < self.rate:
                return name
        return None

    def hits(self, name: str, key: str) -> bool:
        """Whether a hostile fault ``name`` (when enabled) applies to ``key`` (stable)."""
        return name in self.enabled and _share(self.seed, name, key) < self.rate
