"""Keep TensorFlow's start-up noise off a person's terminal unless they ask for it (``carid --verbose``).

What it hides, all of it from libraries, none of it actionable: TensorFlow's C++ INFO and WARNING
lines at start (``oneDNN custom operations are on``, ``cpu_feature_guard``: "This TensorFlow
binary is optimized to use available CPU instructions", absl's "All log messages before
absl::InitializeLog() is called are written to STDERR"), and the ``np.object`` FutureWarning
that Keras' ONNX export triggers. It must run before TensorFlow is imported: the C++ side reads
``TF_CPP_MIN_LOG_LEVEL`` once, at import. A value the person set themselves is kept.

Some of TensorFlow's C++ code logs through absl, which that variable does not reach: the graph optimiser that
Keras' ONNX export runs prints "Number of eligible GPUs" and "Starting new session" INFO lines (TensorFlow 2.20).
:func:`native_stderr_held` keeps such lines, written straight to file descriptor 2, off the terminal around one
call, and shows them when the call fails.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

TF_LOG_LEVEL = "2"  # 0 all, 1 no INFO, 2 no INFO or WARNING, 3 errors hidden too


def quiet_tensorflow(verbose: bool = False) -> None:
    """Hide TensorFlow's start-up noise (not when ``verbose``)."""
    if verbose:
        return
    if "tensorflow" in sys.modules:
        log.debug("TensorFlow is already imported; its C++ log level stays as it was")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", TF_LOG_LEVEL)
    warnings.filterwarnings("ignore", message=r".*np\.object.*", category=FutureWarning)


def verbose_logging() -> bool:
    """Whether the command line asked for debug output (``carid --verbose`` sets the root logger to DEBUG)."""
    return logging.getLogger().isEnabledFor(logging.DEBUG)


@contextmanager
def native_stderr_held(verbose: bool = False) -> Iterator[None]:
    """Hold whatever is written to file descriptor 2 inside the block (C++ libraries write there directly, past
    Python's ``sys.stderr``) in a temporary file, and write it to stderr after all if the block raises. With
    ``verbose`` nothing is held."""
    if verbose:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if failed:
                held.seek(0)
                os.write(2, held.read())
