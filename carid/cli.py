"""The ``carid`` command: one root typer app that mounts each package's app."""

from __future__ import annotations

import typer

from carid import __version__
from carid.log import setup_logging
from curation.cli import app as curate_app
from marketplace.cli import app as marketplace_app
from scraper.cli import app as scrape_app
from serving.cli import serve_command
from splitting.cli import app as split_app
from training.cli import app as train_app
from training.cli import predict_command
from training.study_cli import app as study_app

app = typer.Typer(
    name="carid",
    help="Scrape used-car listings, curate the photos, split them and train a Swift-vs-WagonR classifier.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.add_typer(marketplace_app, name="marketplace")
app.add_typer(scrape_app, name="scrape")
app.add_typer(curate_app, name="curate")
app.add_typer(split_app, name="split")
app.add_typer(train_app, name="train")
app.add_typer(study_app, name="study")
app.command("predict")(predict_command)
app.command("serve")(serve_command)


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
