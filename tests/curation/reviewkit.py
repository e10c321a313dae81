"""A curated mini project and its review page, shared by the review-page tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from curatekit import project, rows

from carid.params import load_params
from curation.outputs import write_all
from curation.review_app.server import ReviewPaths, Served, running_review
from curation.review_app.thumbs import ThumbCache
from curation.run import CuratePaths, curate

HEADER = "sha256,decision,label,reason,note\n"


def curated_project(tmp_path: Path) -> Path:
    """curatekit's 14-photo project, curated: review.csv exists."""
    root = project(tmp_path)
    p = load_params(root / "params.yaml")
    c = curate(CuratePaths(root, root / "data/raw", root / "data/curation/decisions.csv", root / "data/curated"),
               p.curate)
    write_all(c, root / "data/curated", root)
    return root


def paths(root: Path) -> ReviewPaths:
    return ReviewPaths(root, root / "data/raw", root / "data/curated/review.csv", root / "data/curated/audit.csv",
                       root / "data/curation/decisions.csv")


@contextmanager
def serving(root: Path, thumbs: Path, host: str = "127.0.0.1", token: str | None = None) -> Iterator[Served]:
    with running_review(paths(root), host=host, token=token, thumbs=ThumbCache(thumbs)) as served:
        yield served


def review_rows(root: Path) -> list[dict[str, str]]:
    return rows(root / "data/curated/review.csv")


def decisions(root: Path) -> dict[str, dict[str, str]]:
    path = root / "data/curation/decisions.csv"
    return {r["sha256"]: r for r in rows(path)} if path.exists() else {}


def wait_for(check: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``check`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
