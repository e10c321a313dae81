"""The ``carid`` command: one root typer app that mounts each package's app."""

from __future__ import annotations

import importlib

import typer
from typer import _click as click  # typer carries its own click: the types its groups and commands are built of
from typer.core import TyperGroup

from carid import __version__
from carid.log import setup_logging

#: each subcommand's module and attribute: a typer app (a group of commands) or a function (one command)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "marketplace": ("marketplace.cli", "app"),
    "scrape": ("scraper.cli", "app"),
    "curate": ("curation.cli", "app"),
    "split": ("splitting.cli", "app"),
    "train": ("training.cli", "app"),
    "study": ("training.study_cli", "app"),
    "predict": ("training.cli", "predict_command"),
    "serve": ("serving.cli", "serve_command"),
}


def subcommand(name: str) -> click.Command:
    """The click command of one subcommand, importing its module now. Why by hand: typer mounts sub-apps eagerly, and
    importing every package's CLI took 0.83 s of each command's start (the scraper's Selenium alone 0.41 s)."""
    module, attribute = SUBCOMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    # mounted on a holder app as the root used to mount it, so the command is the same (no completion options)
    holder = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)
    if not isinstance(target, typer.Typer):
        holder.command(name)(target)
        return typer.main.get_command(holder)
    holder.add_typer(target, name=name)
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)
    return group.commands[name]


class LazyGroup(TyperGroup):
    """The root group: its subcommands are imported when they are run or listed (``carid --help``), not before."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *SUBCOMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in SUBCOMMANDS:
            return subcommand(cmd_name)
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    name="carid",
    cls=LazyGroup,
    help="Scrape used-car listings, curate the photos, split them and train a Swift-vs-WagonR classifier.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"carid {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show debug logs."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """carid: from a used-car marketplace to a trained car-model classifier."""
    setup_logging(verbose)


if __name__ == "__main__":
    app()
