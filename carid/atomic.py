"""Write a set of output files so that a crash never leaves a half-written one."""

from __future__ import annotations

import os
from pathlib import Path


def write_texts(out_dir: Path, files: dict[str, str]) -> None:
    """Write every file to a temp name first, then rename them all into place."""
    out_dir.mkdir(parents=True, exist_ok=True)
    temps = []
    for name, text in files.items():
        tmp = out_dir / f".{name}.part"
        tmp.write_text(text, encoding="utf-8")
        temps.append((tmp, out_dir / name))
    for tmp, final in temps:
        os.replace(tmp, final)
