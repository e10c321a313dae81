"""Keep TensorFlow's start-up noise off a person's terminal unless they ask for it (``carid --verbose``).

What it hides, all of it from libraries, none of it actionable: TensorFlow's C++ INFO and WARNING
lines at start (``oneDNN custom operations are on``, ``cpu_feature_guard``: "This TensorFlow
binary is optimized to use available CPU instructions", absl's "All log messages before
absl::InitializeLog() is called are written to STDERR"), and the ``np.object`` FutureWarning
that Keras' ONNX export triggers. It must run before TensorFlow is imported: the C++ side reads
``TF_CPP_MIN_LOG_LEVEL`` once, at import. A value the person set themselves is kept.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

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
