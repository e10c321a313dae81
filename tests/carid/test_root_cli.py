"""The root ``carid`` command (carid/cli.py): every subcommand is listed and runs, and a stage's command imports
its own package's CLI, not the others' (the scraper's Selenium, training's Keras)."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from carid.cli import SUBCOMMANDS, app

OTHERS = ("scraper.cli", "selenium", "training.cli", "training.study_cli", "serving.cli", "marketplace.cli")


def test_root_help_lists_every_subcommand_with_its_help() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    for name in SUBCOMMANDS:
        assert f" {name} " in result.output, name
    assert "Curate scraped photos" in result.output and "Serve the exported model" in result.output


def test_each_subcommand_answers_its_help() -> None:
    runner = CliRunner()
    for name in SUBCOMMANDS:
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert f"carid {name}" in result.output, name
        assert "--install-completion" not in result.output, name  # mounted as before: completion is the root's


def test_an_unknown_subcommand_is_one_error() -> None:
    result = CliRunner().invoke(app, ["nosuch"])
    assert result.exit_code != 0 and "No such command 'nosuch'" in result.output


def test_a_stage_imports_only_its_own_cli() -> None:
    code = ("import sys\nfrom carid.cli import app\nsys.argv = ['carid', 'split', '--help']\n"
            "try:\n    app()\nexcept SystemExit:\n    pass\n"
            f"print('LOADED', [m for m in {OTHERS!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "LOADED []" in out, out
    assert "carid split" in out
