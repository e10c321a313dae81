"""The two demo sites as Starlette apps: GaadiBazaar (main) and Hyderabad Motors.

GaadiBazaar's region pages are a JavaScript shell that loads listing cards from
a JSON endpoint (load-more button and infinite scroll, lazy ``data-src``
thumbnails); its detail pages carry a gallery. Hyderabad Motors is server
rendered with numbered pagination and other class names and URLs. The third
site, Carnest, is its own package (:mod:`marketplace.carnest`) and shares the
fault helpers here (:func:`guarded`, :func:`transient_response`, :func:`image_response`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from carid.params import MarketplaceParams
from marketplace.faults import FaultInjector, _share
from marketplace.inventory import MAIN_REGIONS, Inventory, photo_token
from marketplace.specs import Listing, PhotoSpec
from marketplace.store import PhotoStore

REGION_NAMES = {"delhi": "Delhi", "uttar-pradesh": "Uttar Pradesh", "maharashtra": "Maharashtra"}
#: Share of main-site photos served under /media/p/, a path robots-partial disallows.
PRIVATE_SHARE = 0.05
OVERSIZE_BYTES = 24 * 1024 * 1024
_HERE = Path(__file__).parent
_env = Environment(loader=FileSystemLoader(_HERE / "templates"), autoescape=select_autoescape(["html"]))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


async def oversize_response(request: Request) -> Response:
    """The ``oversize`` fault's gallery entry on every site: an endless-looking 24 MB "photo", streamed."""
    async def chunks() -> AsyncIterator[bytes]:
        block = b"\xff" * 65536
        for _ in range(OVERSIZE_BYTES // len(block)):
            yield block

    return StreamingResponse(chunks(), media_type="image/jpeg")


async def bomb_response(request: Request) -> Response:
    """The ``bomb`` fault's gallery entry on every site: a PNG that claims 40000x40000 pixels."""
    return Response(bomb_png(), media_type="image/png")


def bomb_png(width: int = 40_000, height: int = 40_000) -> bytes:
    """A tiny PNG whose header claims a huge 1-bit image (a decompression bomb)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


class Site:
    """State shared by the routes of one site."""

    def __init__(self, params: MarketplaceParams, store: PhotoStore, inventory: Inventory) -> None:
        self.params = params
        self.store = store
        self.inventory = inventory
        self.faults = FaultInjector(frozenset(params.faults), params.fault_rate, params.seed)
        self.offsite_base = ""  # set by the server once ports are known

    def spec(self, token: str) -> PhotoSpec | None:
        return self.inventory.photos_by_token.get(token)

    async def photo_response(self, request: Request, token: str) -> Response:
        spec = self.spec(token)
        if spec is None:
            return PlainTextResponse("no such photo", status_code=404)
        fault = self.faults.pick(request.url.path)
        early = await self.transient(fault)
        if early is not None:
            return early
        body = await run_in_threadpool(self.store.get, spec)
        return image_response(body, fault, self.faults)

    async def transient(self, fault: str | None) -> Response | None:
        """Apply a request-level fault; None means answer normally."""
        return await transient_response(fault)

    def robots(self) -> str:
        lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /api/internal/"]
        if self.faults.on("robots-partial"):
            lines.append("Disallow: /media/p/")
        if self.faults.on("robots-all"):
            lines = ["User-agent: *", "Disallow: /"]
        return "\n".join(lines) + "\n"

    def hostile_extras(self, listing: Listing) -> list[str]:
        """Gallery entries a careful client must refuse (only when those faults are on)."""
        token = photo_token(self.params.seed, listing.listing_id + "-extra")
        extras = []
        if self.faults.hits("oversize", listing.listing_id):
            extras.append(f"/media/big/{token}.jpg")
        if self.faults.hits("bomb", listing.listing_id):
            extras.append(f"/media/bomb/{token}.png")
        if self.faults.hits("redirect-offsite", listing.listing_id):
            extras.append(f"/media/go/{token}.jpg")
        return extras


async def transient_response(fault: str | None) -> Response | None:
    """Apply a request-level fault (429, 5xx, a slow answer); None means answer normally."""
    if fault == "ratelimit":
        return PlainTextResponse("slow down", status_code=429, headers={"Retry-After": "1"})
    if fault == "error5xx":
        return PlainTextResponse("upstream error", status_code=503)
    if fault == "slow":
        await asyncio.sleep(0.4)
    return None


def image_response(body: bytes, fault: str | None, faults: FaultInjector, media_type: str = "image/jpeg") -> Response:
    """An image's answer, with the body-level faults applied (truncated, dropped, wrong type, bad file name)."""
    headers = {"Cache-Control": "public, max-age=86400"}
    if faults.on("bad-filename"):
        headers["Content-Disposition"] = 'inline; filename="../../../../tmp/carid-escape.jpg"'
    if fault == "truncate":
        return Response(body[: len(body) // 2], media_type=media_type, headers=headers)
    if fault == "dropped":
        return _Dropped(body, media_type=media_type, headers=headers)
    if fault == "content-type":
        return HTMLResponse("<html><body><h1>Checking your browser...</h1></body></html>")
    return Response(body, media_type=media_type, headers=headers)


class _Dropped(Response):
    """Declares the whole body's length, sends half, then hangs up: a connection lost mid-body."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True})
        raise _HangUp


class _HangUp(Exception):
    """Ends a response early; the server closes the connection."""


def quiet_hangups(record: logging.LogRecord) -> bool:
    """A filter for the server's error log: a deliberate hang-up is not an error worth a traceback."""
    return not (record.exc_info and record.exc_info[0] is _HangUp)


Endpoint = Callable[[Request], Awaitable[Response]]


def _guarded(site: Site, endpoint: Endpoint) -> Endpoint:
    """Wrap a page endpoint so transient faults (429, 5xx, slow) can hit it too."""
    return guarded(site.faults, endpoint)


def guarded(faults: FaultInjector, endpoint: Endpoint) -> Endpoint:
    """Wrap a page endpoint so transient faults (429, 5xx, slow) hit the first request of each URL."""

    async def wrapped(request: Request) -> Response:
        fault = faults.pick(str(request.url.path) + "?" + str(request.url.query))
        early = await transient_response(fault)
        return early if early is not None else await endpoint(request)

    return wrapped


def main_app(site: Site) -> Starlette:
    regions = [(r, REGION_NAMES[r]) for r in MAIN_REGIONS]
    page_size = site.params.page_size

    def photo_url(spec: PhotoSpec) -> str:
        token = photo_token(site.params.seed, spec.photo_id)
        private = _share(site.params.seed, "private", token) < PRIVATE_SHARE
        return f"/media/p/{token}.jpg" if private else f"/media/{token}.jpg"

    async def home(request: Request) -> Response:
        return HTMLResponse(_env.get_template("main_home.html").render(regions=regions))

    async def region_page(request: Request) -> Response:
        region = request.path_params["region"]
        if region not in REGION_NAMES:
            return PlainTextResponse("no such region", status_code=404)
        html = _env.get_template("main_region.html").render(
            regions=regions, region=region, region_name=REGION_NAMES[region])
        return HTMLResponse(html)

    async def api_listings(request: Request) -> Response:
        region = request.query_params.get("region", "")
        try:
            page = int(request.query_params.get("page", "1"))
        except ValueError:
            return JSONResponse({"error": "page must be an integer"}, status_code=400)
        if region not in REGION_NAMES or page < 1:
            return JSONResponse({"error": "unknown region or page"}, status_code=404)
        listings = site.inventory.region_listings(region)
        pages = max(1, math.ceil(len(listings) / page_size))
        shown = min(page, pages)  # endless: pages past the end repeat the last one
        if page > pages and not site.faults.on("endless"):
            return JSONResponse({"items": [], "next_page": None, "total": len(listings)})
        chunk = listings[(shown - 1) * page_size: shown * page_size]
        items = [{
            "id": lst.listing_id, "title": lst.title, "price": lst.price, "year": lst.year, "km": lst.km,
            "fuel": lst.fuel, "url": f"/listing/{lst.listing_id}", "thumb": photo_url(lst.photos[0]),
        } for lst in chunk]
        more = page < pages or site.faults.on("endless")
        return JSONResponse({"items": items, "next_page": page + 1 if more else None, "total": len(listings)})

    async def detail(request: Request) -> Response:
        listing = site.inventory.by_id.get(request.path_params["listing_id"])
        if listing is None or listing.site != "main":
            return PlainTextResponse("no such listing", status_code=404)
        urls = [photo_url(p) for p in listing.photos] + site.hostile_extras(listing)
        html = _env.get_template("main_detail.html").render(
            regions=regions, listing=listing, region_name=REGION_NAMES[listing.region], photo_urls=urls)
        return HTMLResponse(html)

    async def media(request: Request) -> Response:
        return await site.photo_response(request, request.path_params["token"])

    async def go(request: Request) -> Response:
        return RedirectResponse(f"{site.offsite_base}/media/{request.path_params['token']}.jpg", status_code=302)

    async def robots(request: Request) -> Response:
        return PlainTextResponse(site.robots())

    async def admin(request: Request) -> Response:
        return PlainTextResponse("forbidden", status_code=403)

    g = _guarded
    return Starlette(routes=[
        Route("/", g(site, home)),
        Route("/used-cars/{region}", g(site, region_page)),
        Route("/api/listings", g(site, api_listings)),
        Route("/listing/{listing_id}", g(site, detail)),
        Route("/media/{token:str}.jpg", media),
        Route("/media/p/{token:str}.jpg", media),
        Route("/media/big/{token:str}.jpg", oversize_response),
        Route("/media/bomb/{token:str}.png", bomb_response),
        Route("/media/go/{token:str}.jpg", go),
        Route("/robots.txt", robots),
        Route("/admin/{rest:path}", admin),
        _static(),
    ])


def hyderabad_app(site: Site) -> Starlette:
    page_size = site.params.page_size
    listings = site.inventory.region_listings("hyderabad")
    pages = max(1, math.ceil(len(listings) / page_size))

    def photo_url(spec: PhotoSpec) -> str:
        return f"/photos/{photo_token(site.params.seed, spec.photo_id)}.jpg"

    async def home(request: Request) -> Response:
        return RedirectResponse("/cars", status_code=302)

    async def cars(request: Request) -> Response:
        try:
            page = int(request.query_params.get("page", "1"))
        except ValueError:
            page = 0
        if not 1 <= page <= pages:
            return HTMLResponse("<h2>Page not found</h2>", status_code=404)
        chunk = listings[(page - 1) * page_size: page * page_size]
        window = range(max(1, page - 4), min(pages, page + 4) + 1)
        html = _env.get_template("hyd_list.html").render(
            tiles=[(lst, photo_url(lst.photos[0])) for lst in chunk], page=page, pages=list(window),
            next_page=page + 1 if page < pages else None, slug=slug)
        return HTMLResponse(html)

    async def car(request: Request) -> Response:
        listing_id = request.path_params["slug"].split("-", 1)[0]
        listing = site.inventory.by_id.get(listing_id)
        if listing is None or listing.site != "hyderabad":
            return HTMLResponse("<h2>Car not found</h2>", status_code=404)
        html = _env.get_template("hyd_detail.html").render(
            listing=listing, photo_urls=[photo_url(p) for p in listing.photos])
        return HTMLResponse(html)

    async def photo(request: Request) -> Response:
        return await site.photo_response(request, request.path_params["token"])

    async def robots(request: Request) -> Response:
        return PlainTextResponse(site.robots())

    g = _guarded
    return Starlette(routes=[
        Route("/", home),
        Route("/cars", g(site, cars)),
        Route("/car/{slug:str}.html", g(site, car)),
        Route("/photos/{token:str}.jpg", photo),
        Route("/robots.txt", robots),
    ])


def _static() -> Mount:
    return Mount("/static", app=StaticFiles(directory=_HERE / "static"), name="static")

