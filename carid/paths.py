"""Where things live, relative to the project root (the folder holding params.yaml)."""

from __future__ import annotations

import os
from pathlib import Path


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: cwd) that holds params.yaml.

    Falls back to ``start`` itself so commands still work in an empty folder.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "params.yaml").is_file():
            return folder
    return here


def relative_to_root(path: Path, root: Path) -> str:
    """``path`` as a POSIX path relative to ``root`` (either may be relative to the cwd)."""
    return Path(os.path.relpath(path.resolve(), root.resolve())).as_posix()


def data_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "data"


def cache_dir() -> Path:
    """Per-user cache (rendered demo photos). ``CARID_CACHE_DIR`` overrides it."""
    env = os.environ.get("CARID_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "carid"
