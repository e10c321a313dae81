"""Folders of photos a person already has as a source of their own: params.yaml's scrape.folders, `carid scrape
import --source`, and dvc.yaml's import@<name> stages run by real DVC, which curate reads like a scraped shard."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from dvckit import cli, dvc, dvc_env, dvc_project

from carid.params import ParamsError, load_params
from curation.manifests import find_manifests, read_manifests
from marketplace.render import render_photo
from marketplace.specs import PhotoSpec
from scraper.importer import FolderSource, SourceError, import_source

REPO = Path(__file__).resolve().parents[2]


def _photos(folder: Path, model: str, first: int, n: int) -> None:
    """``n`` real rendered photos of ``model`` (the demo's renderer, distinct scenes)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(first, first + n):
        (folder / f"IMG_{i:04d}.jpg").write_bytes(
            render_photo(PhotoSpec(f"P{i}", model, "", 5000 + i, f"g{i}", "original", "main", 0.3)))


def _project(root: Path, folders: dict[str, dict[str, str]]) -> Path:
    """A project folder with the repo's params.yaml, its scrape.folders replaced."""
    root.mkdir(parents=True, exist_ok=True)
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["scrape"]["folders"] = folders
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    (root / "data/curation").mkdir(parents=True, exist_ok=True)
    (root / "data/curation/decisions.csv").write_text("sha256,decision,label,reason,note\n", encoding="utf-8")
    return root


def test_default_params_have_no_folder_sources() -> None:
    assert load_params(REPO / "params.yaml").scrape.folders == {}


def test_home_folder_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, root = tmp_path / "home", tmp_path / "proj"
    _photos(home / "photos/swift", "swift", 0, 3)
    monkeypatch.setenv("HOME", str(home))
    source = FolderSource("my-swifts", "~/photos/swift", "swift")
    out, added, skipped = import_source(source, Path("params.yaml"), root / "data/raw", root)
    assert out == root / "data/raw/local/my-swifts" and added == 3 and not skipped
    photos, problems = read_manifests(find_manifests(root / "data/raw"))
    assert not problems and len(photos) == 3
    assert {(p.site, p.region, p.label) for p in photos} == {("local", "my-swifts", "swift")}
    assert all((root / p.path).is_file() for p in photos)


def test_relative_folder_is_taken_from_the_project(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    _photos(root / "mine/wagonr", "wagonr", 0, 2)
    _, added, _ = import_source(FolderSource("w", "mine/wagonr", "wagonr"), Path("params.yaml"), root / "data/raw",
                                root)
    assert added == 2


def test_same_folder_imports_to_the_same_bytes(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _photos(src, "swift", 0, 3)
    taken = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    for photo in src.iterdir():
        os.utime(photo, (taken.timestamp(), taken.timestamp()))
    outs = []
    for run in ("a", "b"):
        root = tmp_path / run
        out, _, _ = import_source(FolderSource("s", str(src), "swift"), Path("params.yaml"), root / "data/raw", root)
        outs.append({p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert outs[0] == outs[1] and len(outs[0]) == 3 + 2  # photos, manifest.csv, the journal
    photos, _ = read_manifests(find_manifests(tmp_path / "a/data/raw"))
    rows = list(csv.DictReader(io.StringIO(outs[0][Path("manifest.csv")].decode())))
    assert len(photos) == 3 and {r["fetched_at"] for r in rows} == {taken.isoformat()}  # when the photo was taken


def test_missing_folder_names_params_and_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(SourceError) as info:
        import_source(FolderSource("my-swifts", "~/photos/none", "swift"), Path("proj/params.yaml"),
                      tmp_path / "raw", tmp_path)
    message = str(info.value)
    assert message.startswith("proj/params.yaml: scrape.folders.my-swifts.folder: ~/photos/none")
    assert str(tmp_path / "photos/none") in message and "does not exist" in message
    assert not (tmp_path / "raw").exists()


def test_label_must_be_swift_or_wagonr(tmp_path: Path) -> None:
    _photos(tmp_path / "alto", "other", 0, 1)
    with pytest.raises(SourceError, match=r"^params\.yaml: scrape\.folders\.altos\.label: 'other' is not one of "
                                          r"swift, wagonr$"):
        import_source(FolderSource("altos", str(tmp_path / "alto"), "other"), Path("params.yaml"),
                      tmp_path / "raw", tmp_path)
    # params.yaml itself is checked on load, naming the file and the key
    root = _project(tmp_path / "proj", {"altos": {"folder": "~/alto", "label": "alto"}})
    with pytest.raises(ParamsError, match=r"params\.yaml: key 'scrape\.folders\.altos\.label'.*'alto'"):
        load_params(root / "params.yaml")
    _project(root, {"../up": {"folder": "x", "label": "swift"}})  # a name that would leave data/raw/local
    with pytest.raises(ParamsError, match=r"scrape\.folders\.\.\./up"):
        load_params(root / "params.yaml")


def test_cli_import_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    _photos(tmp_path / "home/pics", "wagonr", 0, 2)
    root = _project(tmp_path / "proj", {"my-wagonrs": {"folder": "~/pics", "label": "wagonr"},
                                        "gone": {"folder": "~/nothing-here", "label": "swift"}})
    code, out = cli(root, "scrape", "import", "--source", "my-wagonrs")
    assert code == 0 and "2 photos" in out and (root / "data/raw/local/my-wagonrs/manifest.csv").is_file()
    code, out = cli(root, "scrape", "import", "--source", "gone")
    assert code != 0 and "params.yaml: scrape.folders.gone.folder: ~/nothing-here" in out
    code, out = cli(root, "scrape", "import", "--source", "nope")
    assert code != 0 and "no folder source 'nope'" in out and "my-wagonrs" in out


def test_empty_folders_make_no_stage_with_real_dvc(tmp_path: Path) -> None:
    """The default: an empty scrape.folders is a foreach over nothing, which DVC accepts."""
    root = _project(tmp_path / "proj", {})
    dvc_project(root, "import", "scrape")
    listed = dvc(root, "stage", "list")
    assert "scrape@delhi" in listed and "import@" not in listed


def test_import_stages_with_real_dvc(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _photos(home / "photos/swift", "swift", 0, 3)
    _photos(home / "photos/wagonr", "wagonr", 10, 2)
    root = _project(tmp_path / "proj", {"my-swifts": {"folder": "~/photos/swift", "label": "swift"},
                                        "my-wagonrs": {"folder": "~/photos/wagonr", "label": "wagonr"}})
    dvc_project(root, "import")
    env = dvc_env(HOME=str(home))
    assert dvc(root, "stage", "list", env=env).count("import@") == 2
    out = dvc(root, "repro", env=env)
    assert "Running stage 'import@my-swifts'" in out and "Running stage 'import@my-wagonrs'" in out
    photos, problems = read_manifests(find_manifests(root / "data/raw"))  # what curate reads
    assert not problems
    assert sorted((p.region, p.label) for p in photos) == [("my-swifts", "swift")] * 3 + [("my-wagonrs", "wagonr")] * 2
    lock = (root / "dvc.lock").read_text()
    _photos(home / "photos/swift", "swift", 20, 1)  # a new photo in a folder DVC cannot see
    assert "Running stage 'import@my-swifts'" in dvc(root, "repro", env=env)
    photos, _ = read_manifests(find_manifests(root / "data/raw"))
    assert len(photos) == 6 and (root / "dvc.lock").read_text() != lock


@pytest.mark.slow
def test_curate_takes_folder_sources_and_skips_an_unchanged_import_with_real_dvc(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _photos(home / "s", "swift", 0, 4)
    _photos(home / "w", "wagonr", 10, 4)
    root = _project(tmp_path / "proj", {"s": {"folder": "~/s", "label": "swift"},
                                        "w": {"folder": "~/w", "label": "wagonr"}})
    dvc_project(root, "import", "curate")
    env = dvc_env(HOME=str(home))
    assert "Running stage 'curate'" in dvc(root, "repro", env=env, timeout=600)
    accepted = (root / "data/curated/accepted.csv").read_text(encoding="utf-8")
    assert accepted.count(",local,") == 8  # every imported photo, its site "local"
    again = dvc(root, "repro", env=env, timeout=600)
    assert "Running stage 'import@s'" in again  # a folder outside the project: always looked at
    assert "Running stage 'curate'" not in again  # same photos, same bytes: nothing new for curate
