"""Small helpers for typer commands: turn library errors into one clear line."""

from __future__ import annotations

from pathlib import Path

import typer

from carid.params import Params, ParamsError, load_params


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` to stderr as one line and return an Exit to raise."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def params_or_exit(path: Path) -> Params:
    try:
        return load_params(path)
    except ParamsError as exc:
        raise fail(str(exc)) from None
