"""A quiet terminal: train, export and predict print carid's lines, not TensorFlow's start-up noise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest
from trainkit import project

from training.quiet import native_stderr_held

NOISE = ("oneDNN custom operations", "cpu_feature_guard", "absl::InitializeLog", "np.object", "FutureWarning")
CARID = str(Path(sys.executable).with_name("carid"))


def run(root: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["KERAS_BACKEND"] = "tensorflow"
    proc = subprocess.run([CARID, *args], cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the noise is TensorFlow's")
def test_train_export_and_predict_print_no_tensorflow_noise(tmp_path: Path) -> None:
    root, _ = project(tmp_path, {"baseline": {"model": "baseline", "augment": False, "epochs": 1,
                                              "learning_rate": 0.001}})
    out = run(root, "train", "run", "--variant", "baseline")
    out += run(root, "train", "export")
    out += run(root, "predict", "data/raw/hyderabad-motors/hyderabad/images")
    assert "train baseline: best epoch" in out and "export: variant baseline" in out
    assert out.count("\t") >= 16  # eight photos labelled, path \t label \t probability
    leaked = [n for n in NOISE if n in out]
    assert not leaked, out


def test_verbose_keeps_the_noise_and_a_persons_own_setting_wins() -> None:
    code = ("import os, sys; from training.quiet import quiet_tensorflow; quiet_tensorflow(sys.argv[1] == 'v'); "
            "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}

    def level(arg: str, **extra: str) -> str:
        return subprocess.run([sys.executable, "-c", code, arg], env={**env, **extra}, capture_output=True,
                              text=True, check=True).stdout.strip()

    assert level("q") == "2"
    assert level("v") == "None"
    assert level("q", TF_CPP_MIN_LOG_LEVEL="0") == "0"


def test_native_stderr_is_held_and_shown_only_when_the_block_fails(capfd: pytest.CaptureFixture[str]) -> None:
    with native_stderr_held():
        os.write(2, b"I0000 devices.cc:76] held line\n")
    assert "held line" not in capfd.readouterr().err
    with pytest.raises(RuntimeError), native_stderr_held():
        os.write(2, b"I0000 context before the failure\n")
        raise RuntimeError("export failed")
    assert "context before the failure" in capfd.readouterr().err
    with native_stderr_held(verbose=True):
        os.write(2, b"verbose line\n")
    assert "verbose line" in capfd.readouterr().err
    os.write(2, b"after the block\n")  # descriptor 2 is the terminal's again
    assert "after the block" in capfd.readouterr().err
