"""``carid serve``: the exported model behind HTTP on loopback (or ``--host``), until Ctrl-C or SIGTERM."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from carid.cliutil import fail, params_or_exit
from carid.params import DEFAULT_SERVE, ServeParams

log = logging.getLogger(__name__)

EXPORT = Path("data/export")
#: seconds a stopping service waits for requests in flight before it closes their connections
DRAIN_S = 30


def load_settings(params: Path) -> ServeParams:
    """The ``serve`` section of ``params`` when that file exists, else the built-in defaults."""
    if not params.is_file():
        log.info("%s not found: using the default service limits", params)
        return DEFAULT_SERVE
    return params_or_exit(params).serve


def serve_command(
    model: Annotated[Path, typer.Option("--model", help="Exported folder: model.onnx + metadata.json.")] = EXPORT,
    host: Annotated[str, typer.Option("--host", help="Address to bind; 0.0.0.0 for every interface.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    params: Annotated[Path, typer.Option("--params", help="params.yaml whose `serve` section sets the limits.")] = Path(
        "params.yaml"),
) -> None:
    """Serve the exported model: POST photos to /predict, or open the page at / in a browser."""
    import uvicorn

    from serving.app import create_app
    from serving.model import ModelLoadError, OnnxClassifier

    settings = load_settings(params)
    try:
        classifier = OnnxClassifier(model, settings.threads)
    except ModelLoadError as exc:
        raise fail(f"serve: {exc}") from None
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    app = create_app(classifier, settings, url)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="on",
                            timeout_graceful_shutdown=DRAIN_S, server_header=False)
    server = uvicorn.Server(config)
    server.run()  # SIGINT / SIGTERM: stop accepting, finish requests in flight, then stop the batcher
    if not server.started:
        raise fail(f"serve: could not start on {host}:{port} (is the port in use?)")


def main() -> None:
    from carid.log import setup_logging

    setup_logging()
    app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)
    app.command()(serve_command)
    app(prog_name="python -m serving")
