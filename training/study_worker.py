"""One backend's share of the study grid, in its own process: ``KERAS_BACKEND`` is read when Keras is imported.

    KERAS_BACKEND=jax python -m training.study_worker --params params.yaml --out data/study/runs-jax.csv
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from training.quiet import quiet_tensorflow


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--split", type=Path, default=Path("data/split"))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    quiet_tensorflow(False)
    import keras

    from carid.params import load_params
    from carid.paths import project_root
    from training.study import grid, run_points

    params = load_params(args.params)
    backend = keras.backend.backend()
    points = [p for p in grid(params) if p.backend == backend]
    run_points(points, params, args.split, project_root(), args.out, jobs=params.study.jobs)


if __name__ == "__main__":
    main()
