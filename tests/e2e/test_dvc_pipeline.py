"""End to end with real DVC on tiny params: a full `dvc repro` from scrape to report, `carid serve` answering for
the export as `carid predict` does, then every incremental promise: nothing changed runs nothing; a decisions.csv
edit never re-scrapes; one shard's params re-run only that shard; one variant's params re-run only its train /
evaluate and what follows; `dvc exp run -S`; a killed run resumes to the same data as an uninterrupted one."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml
from dvckit import dvc as run_dvc
from dvckit import dvc_env
from servekit import running_server

REPO = Path(__file__).resolve().parents[2]
VARIANTS = ("baseline", "dropout", "transfer")
DATA_OUTPUTS = ("data/curated/accepted.csv", "data/split/train.csv", "data/split/val.csv", "data/split/test.csv",
                "data/split/holdout.csv")

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def tiny_params() -> dict[str, object]:
    """The repo's params.yaml with a small marketplace, small splits, small images and one epoch per variant."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    raw["marketplace"].update(listings_per_region=12, hyderabad_listings=14, carnest_listings=6, page_size=8)
    raw["split"]["sizes"] = {"train": 40, "val": 16, "test": 16}
    raw["train"].update(image_size=48, batch_size=16)
    raw["train"]["variants"] = {
        "baseline": {"model": "baseline", "augment": False, "epochs": 1, "learning_rate": 0.001},
        "dropout": {"model": "dropout", "augment": True, "epochs": 1, "learning_rate": 0.001},
        "transfer": {"model": "transfer", "backbone": "efficientnet-lite0", "image_size": 64, "augment": True,
                     "epochs": 2, "learning_rate": 0.001, "fine_tune_epochs": 1, "fine_tune_blocks": 1},
    }
    raw["study"] = {"variants": ["baseline", "transfer"], "fractions": [0.5, 1.0], "seeds": [1], "image_size": 48,
                    "max_epochs": 1, "scaling_variants": ["baseline"], "backends": ["tensorflow", "jax"],
                    "backend_variants": ["baseline"]}
    return raw


def copy_repo(dest: Path) -> Path:
    """The committed and untracked-but-not-ignored files of this checkout, as a fresh git repo with tiny params."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    (dest / "params.yaml").write_text(yaml.safe_dump(tiny_params(), sort_keys=False), encoding="utf-8")
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "tiny")
    return dest


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=carid", "-c", "user.email=ci@carid.invalid", *args], cwd=root,
                   check=True, capture_output=True)


def env(cache: Path) -> dict[str, str]:
    return dvc_env(ITERATIVE_DO_NOT_TRACK="1", TF_CPP_MIN_LOG_LEVEL="2", CARID_CACHE_DIR=str(cache),
                   KERAS_BACKEND="tensorflow")


def dvc(root: Path, cache: Path, *args: str) -> str:
    return run_dvc(root, *args, env=env(cache), timeout=900)


def ran(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


def edit_params(root: Path, *path: str, value: object) -> None:
    raw = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    node = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")


def check_served_export(root: Path, cache: Path, tmp_path: Path) -> None:
    """`carid serve` answers for the exported model as `carid predict` does, for a few test photos."""
    with (root / "data/split/test.csv").open(encoding="utf-8") as fh:
        photos = [root / row["path"] for row in csv.DictReader(fh)][:6]
    proc = subprocess.run(["carid", "predict", *map(str, photos), "--csv", str(tmp_path / "p.csv")], cwd=root,
                          env=env(cache), capture_output=True, text=True, timeout=300, check=True)
    with (tmp_path / "p.csv").open(encoding="utf-8") as fh:
        want = [(r["label"], float(r["probability"])) for r in csv.DictReader(fh)]
    assert len(want) == len(photos), proc.stderr
    with running_server(root / "data/export", root / "params.yaml", tmp_path / "serve.log") as srv:
        r = requests.post(f"{srv.url}/predict", files=[("file", (p.name, p.read_bytes())) for p in photos],
                          timeout=60)
    assert r.status_code == 200, r.text
    got = [(p["label"], p["probability"]) for p in r.json()["predictions"]]
    assert [g[0] for g in got] == [w[0] for w in want]
    assert [g[1] for g in got] == pytest.approx([w[1] for w in want], abs=2e-4)  # predict rounds to 4 places


def test_dvc_repro_end_to_end_and_incremental(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    a = copy_repo(tmp_path / "a")
    out = dvc(a, cache, "repro")
    stages = ran(out)
    assert {"scrape@delhi", "scrape@hyderabad", "curate", "split", "export", "report"} <= stages
    assert {f"{kind}@{v}" for kind in ("train", "evaluate") for v in VARIANTS} <= stages
    for rel in (*DATA_OUTPUTS, "data/export/model.keras", "data/export/model.onnx", "data/export/metadata.json",
                "data/report.md", "data/curated/report.html", "data/split/report.md", "data/study/report.md",
                "data/study/learning_curves.png", "data/study/pairs.png", "data/study/summary.json"):
        assert (a / rel).is_file(), rel
    # the study grid ran on both backends: the first runs the curves and scaling, JAX repeats baseline
    study = {b: (a / f"data/study/runs-{b}.csv").read_text(encoding="utf-8").splitlines()
             for b in ("tensorflow", "jax")}
    assert (len(study["tensorflow"]), len(study["jax"])) == (1 + 5, 1 + 1), study
    assert "## 5. Which framework suits the task?" in (a / "data/study/report.md").read_text(encoding="utf-8")
    report = (a / "data/report.md").read_text(encoding="utf-8")
    assert all(f"| {v} |" in report for v in VARIANTS)
    metrics = json.loads(dvc(a, cache, "metrics", "show", "--json"))
    values = json.dumps(metrics)
    for v in VARIANTS:
        scores = json.loads((a / f"data/eval/{v}/live/metrics.json").read_text(encoding="utf-8"))
        assert isinstance(scores["test"]["accuracy"], float) and isinstance(scores["holdout"]["f1"], float)
        assert f"data/eval/{v}/live/metrics.json" in values
    first = {rel: (a / rel).read_bytes() for rel in DATA_OUTPUTS}
    check_served_export(a, cache, tmp_path)

    assert ran(dvc(a, cache, "repro")) == set()  # nothing changed, nothing runs

    accepted = (a / "data/curated/accepted.csv").read_text(encoding="utf-8").splitlines()
    held = next(line.split(",")[0] for line in accepted if ",hyderabad-motors," in line)
    with (a / "data/curation/decisions.csv").open("a", encoding="utf-8") as fh:
        fh.write(f"{held},reject,,interior,a person looked\n")
    stages = ran(dvc(a, cache, "repro"))
    assert {"curate", "split"} <= stages and not any(s.startswith("scrape@") for s in stages)
    assert not any(s.startswith("train@") for s in stages)  # train.csv and val.csv did not change

    edit_params(a, "scrape", "shards", "hyderabad", "target_per_class", value=5)
    stages = ran(dvc(a, cache, "repro"))
    assert {s for s in stages if s.startswith("scrape@")} == {"scrape@hyderabad"}

    edit_params(a, "train", "variants", "dropout", "epochs", value=2)
    stages = ran(dvc(a, cache, "repro"))
    assert {"train@dropout", "evaluate@dropout"} <= stages
    assert not {"train@baseline", "evaluate@baseline", "split", "curate"} & stages

    git(a, "add", "-A")
    git(a, "commit", "-qm", "after the repro")
    dvc(a, cache, "exp", "run", "-S", "train.variants.baseline.epochs=2")
    shown = dvc(a, cache, "exp", "show", "--json")
    assert "data/eval/baseline/live/metrics.json" in shown and '"epochs": 2' in shown

    # a second copy, killed while it scrapes, then resumed: the same data as the uninterrupted run
    b = copy_repo(tmp_path / "b")
    proc = subprocess.Popen(["dvc", "repro", "split"], cwd=b, env=env(cache), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        manifests = list((b / "data/raw").glob("*/*/manifest.csv"))
        if manifests and sum(len(m.read_text(encoding="utf-8").splitlines()) for m in manifests) > 20:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    dvc(b, cache, "repro", "split")
    for rel in DATA_OUTPUTS:
        assert (b / rel).read_bytes() == first[rel], rel
