from pathlib import Path

import pytest

from carid.params import ParamsError, load_params

ROOT = Path(__file__).resolve().parents[2]


def test_repo_params_load() -> None:
    params = load_params(ROOT / "params.yaml")
    assert params.marketplace.seed == 7
    assert 0 <= params.marketplace.difficulty <= 1


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = (ROOT / "params.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda s: s.replace("  seed: 7", "  seed: 7\n  sed: 3"), "unknown key 'marketplace.sed'"),
        (lambda s: s.replace("  seed: 7", ""), "missing key 'marketplace.seed'"),
        (lambda s: s.replace("  seed: 7", "  seed: seven"), "key 'marketplace.seed'"),
        (lambda s: s.replace("  difficulty: 0.5", "  difficulty: 3.0"), "key 'marketplace.difficulty'"),
        (lambda s: s.replace("faults: []", "faults: [meteor]"), "key 'marketplace.faults.0'"),
        (lambda s: s + "\nbogus_stage: {}\n", "unknown key 'bogus_stage'"),
    ],
)
def test_bad_params_name_file_and_key(tmp_path: Path, edit, expected: str) -> None:
    path = _write(tmp_path, edit(GOOD))
    with pytest.raises(ParamsError) as info:
        load_params(path)
    message = str(info.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="no such params file"):
        load_params(tmp_path / "nope.yaml")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(_write(tmp_path, "marketplace: [unclosed"))


def test_bom_and_crlf_accepted(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode())
    assert load_params(path).marketplace.seed == 7
