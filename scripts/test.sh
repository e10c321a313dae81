#!/usr/bin/env bash
# The test suite: everything under the default Keras backend (TensorFlow), including the slow end-to-end
# `dvc repro` on tiny params, then the Keras-facing tests again under JAX (CPU).
# Extra arguments go to the first pytest run, e.g. `bash scripts/test.sh -m "not slow"`.
set -euo pipefail
cd "$(dirname "$0")/.."
export DVC_NO_ANALYTICS=1 ITERATIVE_DO_NOT_TRACK=1 TF_CPP_MIN_LOG_LEVEL=2 SE_OFFLINE=true
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
echo "== the Keras tests again under the JAX backend"
KERAS_BACKEND=jax .venv/bin/python -m pytest -q -p no:cacheprovider tests/training
