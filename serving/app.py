"""The prediction service: a FastAPI app over :class:`serving.model.OnnxClassifier` and a micro-batcher.

Routes: ``POST /predict`` (multipart, field ``file``, one or many photos), ``GET /health``
(readiness: 200 once the model is loaded and warm, 503 before that and while draining),
``GET /health/live`` (liveness), ``GET /model`` (``metadata.json`` plus the model's version)
and ``GET /`` (a page to drop a photo on). Every refusal is JSON: ``{"error": kind,
"detail": sentence, "files": [...]}`` with a 4xx status; nothing a client sends can crash it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from carid.images import UnreadablePhoto, decode_bytes
from carid.params import ServeParams
from serving.batcher import MicroBatcher
from serving.model import OnnxClassifier

log = logging.getLogger(__name__)
access_log = logging.getLogger("serving.access")

FIELD = "file"
#: multipart framing allowed per file beyond its bytes (headers, boundaries)
_FRAMING = 16 * 1024
#: HTTP status of each decode failure kind (carid.images.UnreadablePhoto.reason)
_STATUS = {"too-many-pixels": 413, "not-an-image": 415, "empty": 422, "truncated": 422, "undecodable": 422}


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail: str, files: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.files = status, error, detail, files or []


@dataclass
class State:
    batcher: MicroBatcher | None = None  # from start-up until the service stops
    ready: bool = False
    draining: bool = False


def _error_response(exc: ApiError) -> JSONResponse:
    body: dict[str, Any] = {"error": exc.error, "detail": exc.detail}
    if exc.files:
        body["files"] = exc.files
    return JSONResponse(body, status_code=exc.status)


def _capped(request: Request, cap: int) -> Request:
    """``request`` whose body stream stops with a 413 once it passes ``cap`` bytes (chunked uploads too)."""
    receive = request.receive
    seen = 0

    async def capped_receive() -> MutableMapping[str, Any]:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > cap:
            raise ApiError(413, "request-too-large", f"the request body is over {cap:,} bytes")
        return message

    return Request(request.scope, capped_receive)


async def read_uploads(request: Request, settings: ServeParams) -> list[tuple[str, bytes]]:
    """(file name, bytes) of each photo in the multipart field ``file``; :class:`ApiError` for anything else."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(415, "not-multipart", f"send photos as multipart/form-data in the field '{FIELD}', "
                       f"e.g. curl -F {FIELD}=@photo.jpg")
    body_cap = settings.max_files * (settings.max_file_bytes + _FRAMING)
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > body_cap:
        raise ApiError(413, "request-too-large", f"the request body is {int(length):,} bytes, over the cap of "
                       f"{body_cap:,} ({settings.max_files} files of at most {settings.max_file_bytes:,} bytes)")
    try:
        form = await _capped(request, body_cap).form(max_files=settings.max_files, max_fields=settings.max_files + 8)
    except HTTPException as exc:
        if "Too many files" in str(exc.detail):
            raise ApiError(413, "too-many-files", f"at most {settings.max_files} photos per request") from None
        raise ApiError(400, "bad-multipart", f"the multipart body cannot be read: {exc.detail}") from None
    try:
        wrong = sorted({k for k, _ in form.multi_items() if k != FIELD})
        uploads = form.getlist(FIELD)
        if wrong or not uploads:
            got = f" (got: {', '.join(repr(k) for k in wrong)})" if wrong else " (the form is empty)"
            raise ApiError(422, "wrong-field", f"send photos in the multipart field '{FIELD}'{got}")
        named: list[tuple[str, bytes]] = []
        too_big: list[dict[str, str]] = []
        for i, up in enumerate(uploads):
            if not isinstance(up, UploadFile):
                raise ApiError(422, "not-a-file", f"field '{FIELD}' #{i + 1} is text, not a file upload")
            name = up.filename or f"{FIELD}#{i + 1}"
            body = await up.read(settings.max_file_bytes + 1)
            if len(body) > settings.max_file_bytes:
                too_big.append({"file": name, "error": "file-too-large",
                                "detail": f"{name} is over the cap of {settings.max_file_bytes:,} bytes"})
            named.append((name, body))
    finally:
        await form.close()
    if too_big:
        raise ApiError(413, "file-too-large", too_big[0]["detail"], too_big)
    return named


def decode_or_refuse(named: list[tuple[str, bytes]], size: int, max_pixels: int) -> list[np.ndarray]:
    """Every photo decoded, or one :class:`ApiError` naming each photo that cannot be."""
    arrays: list[np.ndarray] = []
    bad: list[dict[str, str]] = []
    for name, body in named:
        try:
            arrays.append(decode_bytes(body, size, name, max_pixels))
        except UnreadablePhoto as exc:
            bad.append({"file": name, "error": exc.reason, "detail": str(exc)})
    if bad:
        raise ApiError(max(_STATUS.get(b["error"], 422) for b in bad), bad[0]["error"], bad[0]["detail"], bad)
    return arrays


class AccessLog:
    """One log line per request: method, path, status, photos and latency (pure ASGI: no per-request task)."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            photos = scope.get("state", {}).get("photos")
            extra = f" {photos} photo{'s' if photos != 1 else ''}" if photos is not None else ""
            access_log.info("%s %s %d%s %.1f ms", scope["method"], scope["path"], status, extra,
                            (time.perf_counter() - start) * 1000)


def create_app(model: OnnxClassifier, settings: ServeParams, url: str = "") -> FastAPI:
    """The service for ``model``; ``url`` is only logged once it is ready."""
    info = model.info
    state = State()
    page = resources.files("serving").joinpath("static/index.html").read_text(encoding="utf-8")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        batcher = MicroBatcher(model.run, settings.max_batch, settings.max_wait_ms)
        batcher.start()
        state.batcher = batcher
        size = info.image_size
        await batcher.predict([np.zeros((size, size, 3), np.uint8)])  # warm-up: the first run allocates
        state.ready = True
        log.info("ready%s: model %s (%s), batches of up to %d, %.1f ms wait", f" at {url}" if url else "",
                 info.version, info.metadata.get("variant", "?"), settings.max_batch, settings.max_wait_ms)
        try:
            yield
        finally:
            state.ready, state.draining = False, True
            await batcher.stop()
            s = batcher.stats
            log.info("stopped after %d photos in %d batches (largest %d)", s.photos, s.batches, s.largest)

    app = FastAPI(title="carid prediction service", version=info.version, lifespan=lifespan,
                  description=f"Swift vs WagonR: P({info.classes[1]}) for each photo, from an exported carid model.")

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _error_response(exc)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "alive"}

    @app.get("/health")
    async def health() -> JSONResponse:
        """Readiness: 200 once the model is loaded and warm; 503 before that and while shutting down."""
        status = "ready" if state.ready else ("draining" if state.draining else "starting")
        body: dict[str, Any] = {"status": status, "model": info.version, "worker": os.getpid()}
        if state.batcher is not None:
            s = state.batcher.stats
            body["batches"] = {"count": s.batches, "photos": s.photos, "largest": s.largest}
        return JSONResponse(body, status_code=200 if state.ready else 503)

    @app.get("/model")
    async def model_info() -> dict[str, Any]:
        """The exported model's metadata.json (classes, input, metrics, data hash) and its version."""
        return info.metadata

    predict_doc: dict[str, Any] = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": [FIELD],
        "properties": {FIELD: {"type": "array", "items": {"type": "string", "format": "binary"},
                               "description": f"one or more photos (at most {settings.max_files})"}}}}}}}

    @app.post("/predict", openapi_extra=predict_doc)
    async def predict(request: Request) -> JSONResponse:
        """Label each photo in the multipart field ``file``: its label, P per class and the model's version."""
        batcher = state.batcher
        if not state.ready or batcher is None:
            raise ApiError(503, "not-ready", "the model is not loaded yet or the service is stopping")
        with batcher.incoming():  # left right before the photos join the queue: no await in between
            named = await read_uploads(request, settings)
            request.state.photos = len(named)
            if len(named) == 1:  # on the loop: the hop to a worker thread costs more than half a photo's decode
                arrays = decode_or_refuse(named, info.image_size, settings.max_pixels)
            else:  # worker threads (Pillow releases the GIL), so a request of many photos never stalls the others
                arrays = await run_in_threadpool(decode_or_refuse, named, info.image_size, settings.max_pixels)
        probs = await batcher.predict(arrays)
        first, second = info.classes
        return JSONResponse({"model": info.version, "predictions": [
            {"file": name, "label": second if p >= 0.5 else first,
             "probability": round(p if p >= 0.5 else 1.0 - p, 6),
             "probabilities": {first: round(1.0 - p, 6), second: round(p, 6)}}
            for (name, _), p in zip(named, probs, strict=True)]})

    app.add_middleware(AccessLog)
    return app
