"""Real DVC and the real CLI in a test project folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]


def dvc_env(**extra: str) -> dict[str, str]:
    """This environment with the venv's tools first on PATH, DVC analytics off, and ``extra``."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1",
            **extra}


def dvc(root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    """Run ``dvc ARGS`` in ``root``; fails the test, with the output's tail, when dvc fails."""
    proc = subprocess.run(["dvc", *args], cwd=root, env=env or dvc_env(), capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"dvc {' '.join(args)}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def dvc_project(root: Path, *stages: str) -> None:
    """Make ``root`` a git + DVC repo whose dvc.yaml holds these stages of the real one."""
    real = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    (root / "dvc.yaml").write_text(yaml.safe_dump({"stages": {s: real[s] for s in stages}}), encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    dvc(root, "init", "-q")
    dvc(root, "config", "core.analytics", "false")


def cli(root: Path, *args: str) -> tuple[int, str]:
    """Run ``carid ARGS`` in ``root``; (exit code, output)."""
    from carid.cli import app

    cwd = os.getcwd()
    os.chdir(root)
    try:
        res = CliRunner().invoke(app, list(args))
    finally:
        os.chdir(cwd)
    return res.exit_code, res.output
