"""A tiny curation project on real rendered photos, shared by curation tests."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from PIL import Image

from marketplace.render import render_photo
from marketplace.specs import PhotoSpec
from scraper.importer import import_folder

REPO = Path(__file__).resolve().parents[1]


def spec(i: int, model: str, variant: str = "original", seed: int | None = None) -> PhotoSpec:
    s = 1000 + i if seed is None else seed
    return PhotoSpec(f"P{i}", model, "", s, f"g{s}", variant, "main", 0.3)


def project(tmp_path: Path) -> Path:
    """A project with two imported shards: 6 Swift and 6 WagonR photos, copies planted."""
    root = tmp_path / "proj"
    (root / "data/curation").mkdir(parents=True)
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    (root / "data/curation/decisions.csv").write_text("sha256,decision,label,reason,note\n", encoding="utf-8")
    for label, offset in (("swift", 0), ("wagonr", 100)):
        src = tmp_path / f"src-{label}"
        src.mkdir()
        for i in range(6):
            (src / f"{i}.jpg").write_bytes(render_photo(spec(offset + i, label)))
        if label == "swift":  # a re-encoded copy of photo 0, and a small, darkened ruin of a scene of its own
            (src / "copy.jpg").write_bytes(render_photo(spec(50, label, "reencode", seed=1000)))
            (src / "scene.jpg").write_bytes(render_photo(spec(60, label)))
            img = Image.open(src / "scene.jpg").resize((100, 75)).point(lambda v: v // 8)
            (src / "scene.jpg").unlink()  # only its ruin is listed: a darkened copy is a near duplicate now
            img.save(src / "ruined.jpg", quality=60)
        import_folder(src, root / f"data/raw/local/{label}", root, "local", label, label)
    return root


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def run_cli(*args: str) -> str:
    """``carid ARGS`` in this process; its output, after asserting it succeeded."""
    from typer.testing import CliRunner

    from carid.cli import app

    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output
