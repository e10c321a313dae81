"""``carid serve``: the exported model behind HTTP on loopback (or ``--host``), until Ctrl-C or SIGTERM."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from carid.cliutil import fail, params_or_exit
from carid.params import DEFAULT_SERVE, ServeParams

log = logging.getLogger(__name__)

EXPORT = Path("data/export")
#: seconds a stopping service waits for requests in flight before it closes their connections
DRAIN_S = 30
_ENV_MODEL, _ENV_SETTINGS, _ENV_URL = "CARID_SERVE_MODEL", "CARID_SERVE_SETTINGS", "CARID_SERVE_URL"


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

    from serving.model import ModelLoadError, OnnxClassifier

    settings = load_settings(params)
    workers, threads = settings.worker_count(), settings.thread_count()
    try:
        classifier = OnnxClassifier(model, threads)  # every worker loads it again; this checks it once, here
    except ModelLoadError as exc:
        raise fail(f"serve: {exc}") from None
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    common: dict[str, Any] = {"host": host, "port": port, "log_config": None, "access_log": False, "lifespan": "on",
                              "timeout_graceful_shutdown": DRAIN_S, "server_header": False}
    if workers == 1:
        from serving.app import create_app

        server = uvicorn.Server(uvicorn.Config(create_app(classifier, settings, url), **common))
        server.run()  # SIGINT / SIGTERM: stop accepting, finish requests in flight, then stop the batcher
        if not server.started:
            raise fail(f"serve: could not start on {host}:{port} (is the port in use?)")
        return
    del classifier
    log.info("serving %s with %d worker processes of %d onnxruntime thread%s each", model, workers, threads,
             "" if threads == 1 else "s")
    # uvicorn's own supervisor: it binds once, starts the workers, restarts one that dies, and on SIGINT / SIGTERM
    # sends each SIGTERM, so every worker drains its requests in flight as a single server does
    os.environ[_ENV_MODEL] = str(model.resolve())
    os.environ[_ENV_SETTINGS] = settings.model_copy(update={"threads": threads}).model_dump_json()
    os.environ[_ENV_URL] = url
    uvicorn.run("serving.cli:worker_app", factory=True, workers=workers, **common)


def worker_app() -> Any:
    """The app of one worker process (uvicorn calls this in each; the parent's environment says what to serve)."""
    from carid.log import setup_logging
    from carid.params import ServeParams
    from serving.app import create_app
    from serving.model import OnnxClassifier

    setup_logging()
    settings = ServeParams.model_validate_json(os.environ[_ENV_SETTINGS])
    return create_app(OnnxClassifier(Path(os.environ[_ENV_MODEL]), settings.threads), settings,
                      os.environ.get(_ENV_URL, ""))


def main() -> None:
    from carid.log import setup_logging

    setup_logging()
    app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)
    app.command()(serve_command)
    app(prog_name="python -m serving")
