"""Logging setup shared by every command."""

from __future__ import annotations

import logging
import sys


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now, so a swapped or closed stream (a test runner's) never breaks it."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def setup_logging(verbose: bool = False) -> None:
    """Send library logs to stderr, one line each; ``verbose`` shows debug lines."""
    level = logging.DEBUG if verbose else logging.INFO
    root = logging.getLogger()
    if not any(getattr(h, "_carid", False) for h in root.handlers):
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
        handler._carid = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("urllib3", "selenium", "PIL", "uvicorn.access", "asyncio", "jax._src.xla_bridge", "tf2onnx", "absl"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
