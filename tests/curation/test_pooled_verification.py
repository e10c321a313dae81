"""Near-duplicate verification and the keep rule over worker processes give what one process gives: the same
confirmed pairs (to the last bit of every match), clusters and keep ranks; small inputs start no pool."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from imagekit import scene
from PIL import Image, ImageEnhance, ImageOps

from carid.params import load_params
from curation import dedup
from curation.hashing import fingerprint_many

ROOT = Path(__file__).resolve().parents[2]


def _copies(img: Image.Image) -> dict[str, Image.Image]:
    """Re-uploads of ``img`` that curation counts as near duplicates: brightened, cropped, shrunk, framed."""
    w, h = img.size
    return {
        "bright": ImageEnhance.Brightness(img).enhance(1.2),
        "crop": img.crop((w // 12, h // 12, w - w // 12, h - h // 12)),
        "small": img.resize((w * 3 // 4, h * 3 // 4), Image.Resampling.LANCZOS),
        "framed": ImageOps.expand(img, border=w // 16, fill=(255, 255, 255)),
    }


def _photos(folder: Path, scenes: int) -> tuple[list[Path], list[int]]:
    """JPEGs of ``scenes`` scenes, each with its copies, and which scene each photo shows."""
    paths, truth = [], []
    for s in range(scenes):
        img = scene(1000 + s, (320, 240))
        for name, version in {"original": img, **_copies(img)}.items():
            path = folder / f"scene{s:02d}-{name}.jpg"
            version.save(path, quality=90)
            paths.append(path)
            truth.append(s)
    return paths, truth


class _Spy:
    """Counts the pools started (and their chunks), then runs the real one."""

    def __init__(self, real: Callable[..., list[Any]]) -> None:
        self.real = real
        self.chunks: list[int] = []

    def __call__(self, fn: Callable[[Any], Any], chunks: Sequence[Any], workers: int) -> list[Any]:
        self.chunks.append(len(chunks))
        return self.real(fn, chunks, workers)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], list[int], list[Any]]:
    paths, truth = _photos(tmp_path_factory.mktemp("pooled"), 16)
    fps = [r.fingerprint for r in fingerprint_many(paths, workers=1)]
    assert all(fps)
    return paths, truth, fps


def test_pooled_verification_and_keep_rule_match_one_process(
        planted: tuple[list[Path], list[int], list[Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    paths, truth, fps = planted
    # without the local-feature route: on these drawn scenes (the same shapes in each) it proposes pairs across
    # scenes that join every scene's candidates into one component, hence one job (tests/curation/test_local.py
    # checks its pooled keypoints against one process)
    params = replace(dedup.dedup_params(load_params(ROOT / "params.yaml").curate), local_min_votes=0)
    alone = dedup.near_duplicate_clusters(paths, fps, params, workers=1)
    alone_ranks = dedup.keep_ranks(alone, paths, workers=1)

    spy = _Spy(dedup.pool_map)
    monkeypatch.setattr(dedup, "pool_map", spy)
    monkeypatch.setattr(dedup, "POOL_MIN_PAIRS", 0)
    monkeypatch.setattr(dedup, "POOL_MIN_MEMBERS", 0)
    pooled = dedup.near_duplicate_clusters(paths, fps, params, workers=2)
    pooled_ranks = dedup.keep_ranks(pooled, paths, workers=2)
    assert len(spy.chunks) == 2 and min(spy.chunks) > 1  # verification and keep rule, each over several jobs

    # the planted copies were found, so the comparison below is about real work
    for s in set(truth):
        members = {pooled.labels[i] for i, t in enumerate(truth) if t == s}
        assert len(members) == 1, f"scene {s}'s copies fell into clusters {members}"
    assert len(pooled.confirmed) >= len(set(truth)) * 4

    assert pooled.labels == alone.labels
    assert pooled.confirmed == alone.confirmed  # same pairs, same order, every match field to the bit
    assert list(pooled_ranks.items()) == list(alone_ranks.items())


def test_a_few_candidates_start_no_pool(planted: tuple[list[Path], list[int], list[Any]],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    paths, truth, fps = planted
    params = dedup.dedup_params(load_params(ROOT / "params.yaml").curate)
    few = [i for i, t in enumerate(truth) if t < 2]  # two scenes: 20 candidate pairs at most
    spy = _Spy(dedup.pool_map)
    monkeypatch.setattr(dedup, "pool_map", spy)
    found = dedup.near_duplicate_clusters([paths[i] for i in few], [fps[i] for i in few], params, workers=2)
    dedup.keep_ranks(found, [paths[i] for i in few], workers=2)
    assert spy.chunks == []
    assert len(set(found.labels)) == 2
