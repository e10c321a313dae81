#!/usr/bin/env bash
# The main job: rebuild the whole pipeline on the embedded demo marketplace with `dvc repro`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" DVC_NO_ANALYTICS=1 ITERATIVE_DO_NOT_TRACK=1 TF_CPP_MIN_LOG_LEVEL=2 SE_OFFLINE=true
if [ ! -x .venv/bin/carid ]; then
  echo "carid is not installed: run 'bash scripts/install.sh' first" >&2
  exit 1
fi
start=$(date +%s)
dvc repro "$@"
echo
echo "done in $(( $(date +%s) - start )) s. What was built:"
for m in data/raw/*/*/manifest.csv; do
  [ -f "$m" ] && printf '  %-48s %6d photos\n' "$m" "$(( $(wc -l < "$m") - 1 ))"
done
echo "Browse the demo marketplace yourself: .venv/bin/carid marketplace serve"
