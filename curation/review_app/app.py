"""The review page's web app (Starlette): the page, the photos by sha256, and the decisions API.

Safety rules, all enforced here:

- A client is *local* when it connects from 127.0.0.1 or ::1 **and** names the server by a loopback name
  (127.0.0.1, localhost, [::1]) in its Host header; a web page that rebinds its own domain name to 127.0.0.1
  is therefore not local. Without a token (the default, loopback-only bind) only local clients are served; with a
  token (``--host``) every other client must present it (``?token=`` once, then a cookie) or gets 403.
- Photos are looked up by sha256 in the manifests' index and re-hashed before they are served: no part of a
  request path is ever joined to a file-system path, and anything else (``../``, absolute paths) is 404.
- Writes are JSON POSTs from the page's own origin; there is no route that deletes or moves a photo.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
import unicodedata
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import filelock
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from curation.decisions import (
    CLASS_LABELS,
    DECISIONS,
    Decision,
    DecisionsError,
    FileVersion,
    StaleDecisionError,
    decisions_in,
    update_decisions,
)
from curation.review_app.data import Review, inside
from curation.review_app.thumbs import ThumbCache, verified_photo

log = logging.getLogger(__name__)

LOOPBACK_IPS = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
STATIC = {"index.html": "text/html; charset=utf-8", "review.js": "text/javascript; charset=utf-8",
          "review.css": "text/css; charset=utf-8"}
_SHA = re.compile(r"[0-9a-f]{64}")
MAX_TEXT = 200
_IMMUTABLE = {"Cache-Control": "private, max-age=604800, immutable"}  # content-addressed: never changes
_SECURITY = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
             (b"referrer-policy", b"no-referrer"),
             (b"content-security-policy", b"default-src 'self'; img-src 'self'; frame-ancestors 'none'")]


def cookie_name(port: int) -> str:
    return f"carid_review_{port}"


def _host_name(headers: dict[bytes, bytes]) -> str:
    host = headers.get(b"host", b"").decode("latin-1").strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_local(scope: Scope) -> bool:
    """Connected from 127.0.0.1 / ::1 and addressing the server by a loopback name."""
    client = scope.get("client")
    headers = dict(scope.get("headers") or [])
    return client is not None and client[0] in LOOPBACK_IPS and _host_name(headers) in LOOPBACK_NAMES


def _token_in(scope: Scope, name: str) -> tuple[str, bool]:
    """The token a request carries, and whether it came in the query string (then a cookie is set)."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0], True
    for key, value in scope.get("headers") or []:
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v, False
    return "", False


class Guard:
    """ASGI middleware: who may talk to the app at all (see the module's docstring)."""

    def __init__(self, app: ASGIApp, token: str | None, port: int) -> None:
        self.app = app
        self.token = token
        self.cookie = cookie_name(port)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given, in_query = _token_in(scope, self.cookie)
        valid = self.token is not None and hmac.compare_digest(given.encode(), self.token.encode())
        if not (valid or is_local(scope)):
            why = "a token is required: open the URL the server printed" if self.token else \
                "this server only answers http://127.0.0.1 on this machine"
            await _plain(403, why)(scope, receive, send)
            return
        if scope["method"] == "POST" and not _same_origin(scope):
            await _plain(403, "cross-origin write refused")(scope, receive, send)
            return
        set_cookie = valid and in_query

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + _SECURITY
                if set_cookie:
                    headers.append((b"set-cookie", f"{self.cookie}={self.token}; Path=/; HttpOnly; "
                                                   "SameSite=Strict".encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _same_origin(scope: Scope) -> bool:
    headers = dict(scope.get("headers") or [])
    if headers.get(b"content-type", b"").split(b";")[0].strip() != b"application/json":
        return False  # forces a CORS preflight on any cross-site page, which this app never answers
    origin = headers.get(b"origin")
    return origin is None or origin.decode("latin-1") == f"http://{headers.get(b'host', b'').decode('latin-1')}"


def _plain(status: int, text: str) -> Response:
    return Response(text + "\n", status_code=status, media_type="text/plain; charset=utf-8")


def _clean(value: object) -> str:
    """Free text for a CSV cell: one line, no control characters, at most MAX_TEXT characters."""
    text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in str(value or ""))
    return " ".join(text.split())[:MAX_TEXT]


@dataclass
class DecisionsCache:
    """The last parsed state of decisions.csv, re-read only when its version stamp changes."""

    version: FileVersion | None = None
    body: bytes = b""


class ReviewApp:
    """State shared by the routes: the review, the decisions file, the thumbnail cache."""

    def __init__(self, review: Review, decisions: Path, thumbs: ThumbCache) -> None:
        self.review = review
        self.decisions = decisions
        self.thumbs = thumbs
        self.payload = review.payload()
        self.static = {name: resources.files("curation.review_app").joinpath("static", name).read_bytes()
                       for name in STATIC}
        self.write_lock = threading.Lock()  # threads of this process queue here; other processes on the file lock
        self.cache = DecisionsCache()
        self.cache_lock = threading.Lock()

    # -- pages and photos ------------------------------------------------------------------------------------
    def index(self, request: Request) -> Response:
        return Response(self.static["index.html"], media_type=STATIC["index.html"],
                        headers={"Cache-Control": "no-store"})

    def static_file(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC or name == "index.html":
            return _plain(404, "not found")
        return Response(self.static[name], media_type=STATIC[name], headers={"Cache-Control": "no-cache"})

    def _photo_path(self, request: Request) -> tuple[str, Path] | None:
        sha = request.path_params["sha"]
        if not _SHA.fullmatch(sha) or sha not in self.review.photos:
            return None
        path = self.review.photos[sha]
        if not inside(path, self.review.raw):
            return None  # a symbolic link out of data/raw
        return sha, path

    def thumb(self, request: Request) -> Response:
        found = self._photo_path(request)
        data = self.thumbs.get(*found) if found else None
        if data is None:
            return _plain(404, "not found")
        return Response(data, media_type="image/jpeg", headers=_IMMUTABLE)

    def photo(self, request: Request) -> Response:
        found = self._photo_path(request)
        data = verified_photo(*found) if found else None
        if data is None:
            return _plain(404, "not found")
        kind = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
        return Response(data, media_type=kind, headers=_IMMUTABLE)

    # -- decisions -------------------------------------------------------------------------------------------
    def review_data(self, request: Request) -> Response:
        return Response(self.payload, media_type="application/json")

    def _decisions_body(self) -> tuple[FileVersion | None, bytes]:
        with self.cache_lock:
            version = FileVersion.of(self.decisions)
            if version is None or version != self.cache.version:
                body: dict[str, object]
                try:
                    data = self.decisions.read_bytes() if version else None
                    found, problems = decisions_in(str(self.decisions), data)
                    body = {"decisions": {s: _wire(d) for s, d in found.items()},
                            "problems": [str(p) for p in problems[:20]], "error": ""}
                except DecisionsError as exc:
                    body = {"decisions": None, "problems": [], "error": str(exc)}
                except (OSError, UnicodeDecodeError) as exc:
                    body = {"decisions": None, "problems": [], "error": f"{self.decisions}: {exc}"}
                body["version"] = version.tag() if version else ""
                self.cache = DecisionsCache(version, json.dumps(body, separators=(",", ":")).encode())
            return self.cache.version, self.cache.body

    def decisions_state(self, request: Request) -> Response:
        version, body = self._decisions_body()
        etag = f'"{version.tag() if version else "none"}"'
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(body, media_type="application/json", headers={"ETag": etag, "Cache-Control": "no-cache"})

    async def decide(self, request: Request) -> Response:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        return await run_in_threadpool(self._decide, body)

    def _decide(self, body: Any) -> Response:
        if not isinstance(body, dict):
            return JSONResponse({"error": "expected a JSON object"}, status_code=400)
        sha = str(body.get("sha256", "")).lower()
        if not _SHA.fullmatch(sha) or sha not in self.review.photos:
            return JSONResponse({"error": "no such photo in the manifests"}, status_code=404)
        try:
            new = _decision(sha, body.get("decision"))
            expect = {sha: _decision(sha, body["expect"])} if "expect" in body else None
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if new is None and expect is None:
            return JSONResponse({"error": "clearing a decision needs 'expect' (what the page last saw)"},
                                status_code=400)
        try:
            with self.write_lock:
                updated = update_decisions(self.decisions, {sha: new}, expect)
        except StaleDecisionError as exc:
            return JSONResponse({"error": str(exc), "stale": True}, status_code=409)
        except DecisionsError as exc:
            return JSONResponse({"error": f"{exc} (fix the file; nothing was written)"}, status_code=409)
        except filelock.Timeout:
            return JSONResponse({"error": "decisions.csv is locked by another carid command; try again"},
                                status_code=503)
        except UnicodeDecodeError:
            return JSONResponse({"error": f"{self.decisions} is not UTF-8 text (save it as CSV UTF-8); nothing "
                                          "was written"}, status_code=409)
        except OSError as exc:
            return JSONResponse({"error": f"{self.decisions}: {exc.strerror}; nothing was written"}, status_code=503)
        log.info("decision %s: %s", sha[:12], " ".join(v for v in (new.decision, new.label, new.reason) if v)
                 if new else "cleared")
        # in_sync: the page had seen the file just before this write, so the new version holds nothing else new
        seen = str(body.get("seen", ""))
        in_sync = updated.before is not None and seen == f'"{updated.before.tag()}"'
        return JSONResponse({"sha256": sha, "decision": _wire(new) if new else None, "in_sync": in_sync,
                             "version": updated.version.tag() if updated.version else ""})


def _wire(d: Decision) -> dict[str, str]:
    out = asdict(d)
    out.pop("sha256")
    return out


def _decision(sha: str, value: object) -> Decision | None:
    """A Decision from the page's JSON (None: no decision), validated like decisions.csv's reader does."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("a decision is an object with decision, label, reason, note")
    choice = str(value.get("decision", "")).lower()
    label = str(value.get("label", "") or "").lower()
    if choice not in DECISIONS:
        raise ValueError(f"unknown decision {choice!r} (use {', '.join(DECISIONS)})")
    if (label or choice == "relabel") and label not in CLASS_LABELS:
        raise ValueError(f"unknown label {label!r} (use {', '.join(CLASS_LABELS)})")
    return Decision(sha, choice, label, _clean(value.get("reason")), _clean(value.get("note")))


def build_app(review: Review, decisions: Path, thumbs: ThumbCache, token: str | None, port: int) -> ASGIApp:
    """The review page's ASGI app, guarded (see the module's docstring)."""
    state = ReviewApp(review, decisions, thumbs)
    routes = [
        Route("/", state.index, methods=["GET"]),
        Route("/favicon.ico", lambda request: Response(status_code=204), methods=["GET"]),
        Route("/static/{name}", state.static_file, methods=["GET"]),
        Route("/thumb/{sha}", state.thumb, methods=["GET"]),
        Route("/photo/{sha}", state.photo, methods=["GET"]),
        Route("/api/review", state.review_data, methods=["GET"]),
        Route("/api/decisions", state.decisions_state, methods=["GET"]),
        Route("/api/decide", state.decide, methods=["POST"]),
    ]
    return Guard(Starlette(routes=routes), token, port)
