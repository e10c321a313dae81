"""Carnest as a Starlette app: a Next.js-style single-page used-car site for Pune.

Listing pages are server rendered once (cards, ``__NEXT_DATA__``, a JSON-LD
``ItemList``), then grow by infinite scroll from ``/api/v1/search`` until a page
comes back empty; nothing marks the end. Class names are hashed per build (per
seed), images carry only ``srcset`` thumbnails, promo tiles share the cards'
class, titles come in pieces. Detail galleries are in JSON-LD, a JavaScript
object literal or a JSON endpoint, and only the page's script draws them.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

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
)
from starlette.routing import Route

from carid.params import MarketplaceParams
from marketplace.app import bomb_response, guarded, image_response, oversize_response, slug, transient_response
from marketplace.carnest.inventory import CITY, REGION, Car, CarnestInventory
from marketplace.carnest.photos import CR_QUALITY, CR_SIZE, THUMB_SIZES, CarnestStore
from marketplace.faults import FaultInjector, _share
from marketplace.inventory import photo_token
from marketplace.specs import PhotoSpec

#: Share of photos served under /cdn/p/ (a path robots-partial disallows), as on the main site.
PRIVATE_SHARE = 0.05
#: A promo tile follows every PROMO_EVERY-th listing (by position in the whole list).
PROMO_EVERY = 7
MAX_API_SIZE = 60
#: Class-name stems; each is served as ``styles_<stem>__<hash>``, the hash changing with the build (seed).
CLASS_STEMS = ("header", "grid", "card", "link", "media", "thumb", "body", "title", "badge", "variant", "specs",
               "price", "location", "locality", "city", "sentinel", "heading", "gallery", "slide", "facts")
#: Thumbnail URL -> full photo URL: drop a ``-cr-NN`` suffix and the ``?w=&h=`` query.
REWRITE_PATTERN = r"(/cdn/(?:p/)?photos/[0-9a-f]{20})(?:-cr-\d+)?\.jpg(?:\?.*)?$"
REWRITE_REPLACE = r"\1.jpg"
_PLACEHOLDER = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
_PHOTO_NAME = re.compile(r"^([0-9a-f]{20})(-cr-60)?\.jpg$")
_HERE = Path(__file__).parent
_env = Environment(loader=FileSystemLoader(_HERE / "templates"), autoescape=select_autoescape(["html"]))
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def full_photo_url(url: str) -> str:
    """The full-size photo URL of a thumbnail URL (other URLs unchanged): the site's documented rewrite."""
    return re.sub(REWRITE_PATTERN, REWRITE_REPLACE, url)


def build_id(seed: int) -> str:
    return hashlib.sha1(f"carnest-build:{seed}".encode()).hexdigest()[:12]


def class_names(build: str) -> dict[str, str]:
    """``{stem: "styles_<stem>__<5 chars>"}`` for one build, like CSS modules' hashed names."""
    out = {}
    for stem in CLASS_STEMS:
        n = int.from_bytes(hashlib.sha1(f"{build}:{stem}".encode()).digest()[:8], "big")
        suffix = "".join(_B62[(n >> (6 * k)) % 62] for k in range(5))
        out[stem] = f"styles_{stem}__{suffix}"
    return out


def lakh(rupees: int) -> str:
    """``545000`` -> ``₹5.45 Lakh`` (a lakh is 100,000 rupees)."""
    return f"₹{rupees / 100_000:.2f} Lakh"


def indian_digits(n: int) -> str:
    """``145000`` -> ``1,45,000``: the last three digits, then groups of two."""
    s = str(n)
    if len(s) <= 3:
        return s
    head, tail = s[:-3], s[-3:]
    groups: list[str] = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([head, *groups, tail])


def script_json(obj: object) -> str:
    """JSON for inside a ``<script>`` element, escaped the way Next.js escapes ``__NEXT_DATA__``."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for char, esc in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"),
                      ("\u2029", "\\u2029")):
        text = text.replace(char, esc)
    return text


def js_literal(value: object) -> str:
    """A JavaScript object literal as minified bundles write it: bare keys, single quotes, ``!0``/``!1``,
    ``void 0``. Written by hand because no library writes this form (chompjs only reads it)."""
    if value is None:
        return "void 0"
    if value is True:
        return "!0"
    if value is False:
        return "!1"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = (value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
                   .replace("</", "<\\/"))
        return f"'{escaped}'"
    if isinstance(value, Mapping):
        parts = []
        for key, item in value.items():
            name = key if re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", key) else json.dumps(key)
            parts.append(f"{name}:{js_literal(item)}")
        return "{" + ",".join(parts) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(js_literal(v) for v in value) + "]"
    raise TypeError(f"no JavaScript literal for {type(value).__name__}")


@dataclass(frozen=True)
class Promo:
    """A finance or sell-your-car tile among the cards: no title, and a link only on the sell tile."""

    number: int

    @property
    def promo_id(self) -> str:
        return f"promo-{self.number}"

    @property
    def link(self) -> str | None:
        return "/sell-car" if self.number % 2 == 0 else None

    @property
    def headline(self) -> str:
        return "Sell your car in 24 hours" if self.link else "Car loans from 9.5%*"

    @property
    def text(self) -> str:
        return "Free inspection at your home" if self.link else "Check your eligibility in 2 minutes"

    @property
    def cta(self) -> str:
        return "Get a price" if self.link else "Check eligibility"


Entry = Car | Promo


class CarnestSite:
    """State shared by Carnest's routes."""

    def __init__(self, params: MarketplaceParams, store: CarnestStore, inventory: CarnestInventory) -> None:
        self.params = params
        self.store = store
        self.inventory = inventory
        self.faults = FaultInjector(frozenset(params.faults), params.fault_rate, params.seed)
        self.offsite_base = ""  # set by the server once ports are known
        self.build = build_id(params.seed)
        self.classes = class_names(self.build)

    # -- what is on a page ---------------------------------------------------------------------
    def entries(self, page: int, size: int) -> list[Entry]:
        """Cards of one page: ``size`` listings and the promo tiles among them ([] past the end).

        With the ``endless`` fault, pages past the end repeat the last page.
        """
        cars = self.inventory.cars
        pages = max(1, math.ceil(len(cars) / size))
        if page > pages:
            if not self.faults.on("endless"):
                return []
            page = pages
        out: list[Entry] = []
        for i in range((page - 1) * size, min(page * size, len(cars))):
            out.append(cars[i])
            if (i + 1) % PROMO_EVERY == 0:
                out.append(Promo((i + 1) // PROMO_EVERY))
        return out

    def token(self, spec: PhotoSpec) -> str:
        return photo_token(self.params.seed, spec.photo_id)

    def photo_path(self, spec: PhotoSpec) -> str:
        """The full photo's path: ``/cdn/photos/<token>.jpg``, or under ``/cdn/p/`` for a private share."""
        token = self.token(spec)
        private = _share(self.params.seed, "carnest-private", token) < PRIVATE_SHARE
        return f"/cdn/p/photos/{token}.jpg" if private else f"/cdn/photos/{token}.jpg"

    def hostile_extras(self, car: Car) -> list[str]:
        """Gallery entries a careful client must refuse (only when those faults are on)."""
        token = photo_token(self.params.seed, car.listing_id + "-extra")
        extras = []
        if self.faults.hits("oversize", car.listing_id):
            extras.append(f"/cdn/big/{token}.jpg")
        if self.faults.hits("bomb", car.listing_id):
            extras.append(f"/cdn/bomb/{token}.png")
        if self.faults.hits("redirect-offsite", car.listing_id):
            extras.append(f"/cdn/go/{token}.jpg")
        return extras

    def gallery_paths(self, car: Car) -> list[str]:
        """Every full photo of a listing, then the hostile extras."""
        return [self.photo_path(p) for p in car.listing.photos] + self.hostile_extras(car)

    def robots(self) -> str:
        lines = ["User-agent: *", "Disallow: /api/", "Allow: /api/v1/search", "Allow: /api/v1/listings/",
                 "Disallow: /admin/", "Disallow: /*?*utm_", "Disallow: /*.json$"]
        if self.faults.on("robots-partial"):
            lines.append("Disallow: /cdn/p/")
        if self.faults.on("robots-all"):
            lines = ["User-agent: *", "Disallow: /"]
        return "\n".join(lines) + "\n"

    # -- JSON records --------------------------------------------------------------------------
    @staticmethod
    def url_of(car: Car) -> str:
        return f"/cars/{car.listing_id}/{slug(car.listing.title)}"

    def item(self, car: Car, host: str) -> dict[str, Any]:
        """A listing as the search API (and ``__NEXT_DATA__``) gives it, every photo as a small thumbnail."""
        lst = car.listing
        images = [{"id": self.token(p), "small": {"url": f"//{host}{self.photo_path(p)[:-4]}-cr-60.jpg",
                                                  "width": CR_SIZE[0], "height": CR_SIZE[1]}}
                  for p in lst.photos]
        images += [{"id": path.rsplit("/", 1)[1].split(".")[0], "small": {"url": f"//{host}{path}", "width": 640,
                                                                          "height": 360}}
                   for path in self.hostile_extras(car)]
        return {"type": "listing", "id": car.listing_id, "url": self.url_of(car), **self.facts(car),
                "sponsored": car.sponsored, "ui": {"titleWords": car.glued}, "images": images}

    @staticmethod
    def facts(car: Car) -> dict[str, Any]:
        lst = car.listing
        return {"title": {"main": car.heading, "variant": car.variant}, "make": car.make, "model": car.model_name,
                "year": lst.year, "km": lst.km, "price": {"value": lst.price, "currency": "INR",
                                                          "display": lakh(lst.price)},
                "fuelType": lst.fuel, "transmission": car.transmission,
                "location": {"city": car.city, "locality": car.locality}}

    @staticmethod
    def promo_item(promo: Promo) -> dict[str, Any]:
        return {"type": "promo", "id": promo.promo_id, "headline": promo.headline, "text": promo.text,
                "cta": {"label": promo.cta, "url": promo.link}}

    @staticmethod
    def ld_car(car: Car, base: str, images: list[str] | None) -> dict[str, Any]:
        lst = car.listing
        out: dict[str, Any] = {
            "@type": "Car", "name": lst.title, "url": base + CarnestSite.url_of(car),
            "brand": {"@type": "Brand", "name": car.make}, "model": car.model_name,
            "vehicleModelDate": str(lst.year),
            "mileageFromOdometer": {"@type": "QuantitativeValue", "value": lst.km, "unitCode": "KMT"},
            "fuelType": lst.fuel, "vehicleTransmission": car.transmission,
            "offers": {"@type": "Offer", "price": lst.price, "priceCurrency": "INR",
                       "availableAtOrFrom": {"@type": "Place", "address": {
                           "@type": "PostalAddress", "addressLocality": car.city}}},
        }
        if images is not None:
            out["image"] = images
        return out

    def card(self, entry: Entry) -> dict[str, Any]:
        """What the card template needs (the scroll script builds the same markup from the API)."""
        if isinstance(entry, Promo):
            return {"type": "promo", "link": entry.link, "headline": entry.headline, "text": entry.text,
                    "cta": entry.cta}
        lst = entry.listing
        cover = self.photo_path(lst.photos[0])
        return {"type": "listing", "url": self.url_of(entry), "cover": cover, "alt": entry.heading,
                "heading": entry.heading, "words": entry.heading.split(), "glued": entry.glued,
                "sponsored": entry.sponsored, "variant": entry.variant, "year": lst.year,
                "km": f"{indian_digits(lst.km)} km", "fuel": lst.fuel, "transmission": entry.transmission,
                "price": lakh(lst.price), "locality": entry.locality, "city": entry.city}

    @cached_property
    def scripts(self) -> dict[str, str]:
        """The built JavaScript and CSS, served under the build's hashed names."""
        classes = script_json(self.classes)
        return {
            f"/_next/static/css/{self.build}.css": _env.get_template("carnest.css").render(c=self.classes),
            f"/_next/static/chunks/pages/used-cars-{self.build}.js":
                _env.get_template("listing.js").render(classes=classes, city=REGION),
            f"/_next/static/chunks/pages/car-{self.build}.js":
                _env.get_template("detail.js").render(classes=classes),
        }


def _int_param(request: Request, name: str, default: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        return None


def carnest_app(site: CarnestSite) -> Starlette:
    c = site.classes
    page_size = site.params.page_size

    def base_of(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    async def home(request: Request) -> Response:
        return RedirectResponse(f"/used-cars/{REGION}", status_code=302)

    async def listing_page(request: Request) -> Response:
        if request.path_params["city"] != REGION:
            return HTMLResponse("<h1>No cars in this city yet</h1>", status_code=404)
        page = _int_param(request, "page", 1)
        if page is None or page < 1:
            return HTMLResponse("<h1>Page not found</h1>", status_code=404)
        entries = site.entries(page, page_size)
        host, base = request.url.netloc, base_of(request)
        cars = [e for e in entries if isinstance(e, Car)]
        item_list = {
            "@context": "https://schema.org", "@type": "ItemList", "name": f"Used cars in {CITY}",
            "numberOfItems": len(cars),
            "itemListElement": [{"@type": "ListItem", "position": (page - 1) * page_size + k + 1,
                                 "item": site.ld_car(car, base, [f"{base}{site.photo_path(car.listing.photos[0])}"
                                                                 "?w=320&h=180"])}
                                for k, car in enumerate(cars)],
        }
        next_data = {
            "props": {"pageProps": {"city": {"slug": REGION, "name": CITY},
                                    "search": {"page": page, "size": page_size, "results": [
                                        site.item(e, host) if isinstance(e, Car) else site.promo_item(e)
                                        for e in entries]}},
                      "__N_SSP": True},
            "page": "/used-cars/[city]", "query": {"city": REGION, "page": str(page)}, "buildId": site.build,
            "isFallback": False, "gssp": True,
        }
        html = _env.get_template("list.html").render(
            c=c, build=site.build, page=page, cards=[site.card(e) for e in entries], placeholder=_PLACEHOLDER,
            ld_json=script_json(item_list), next_data=script_json(next_data))
        return HTMLResponse(html)

    async def search(request: Request) -> Response:
        page, size = _int_param(request, "page", 1), _int_param(request, "size", page_size)
        if page is None or size is None or page < 1 or not 1 <= size <= MAX_API_SIZE:
            return JSONResponse({"error": f"page must be >= 1 and size 1..{MAX_API_SIZE}"}, status_code=400)
        city = request.query_params.get("city", "")
        if city != REGION:
            return JSONResponse({"error": f"unknown city {city!r}"}, status_code=404)
        host = request.url.netloc
        results = [site.item(e, host) if isinstance(e, Car) else site.promo_item(e) for e in site.entries(page, size)]
        return JSONResponse({"meta": {"city": REGION, "page": page, "size": size}, "results": results})

    async def gallery_api(request: Request) -> Response:
        car = site.inventory.by_id.get(request.path_params["listing_id"])
        if car is None:
            return JSONResponse({"error": "no such listing"}, status_code=404)
        images = []
        for path in site.gallery_paths(car):
            thumb = f"{path}?w=320&h=180" if "/photos/" in path else path
            images.append({"thumb": thumb, "full": path})
        return JSONResponse({"listingId": car.listing_id, "images": images})

    async def detail(request: Request) -> Response:
        car = site.inventory.by_id.get(request.path_params["listing_id"])
        if car is None:
            return HTMLResponse("<h1>This car is no longer available</h1>", status_code=404)
        host, base = request.url.netloc, base_of(request)
        paths = site.gallery_paths(car)
        ld_images = [f"//{host}{p}" for p in paths] if car.gallery_kind == "ld" else None
        listing: dict[str, Any] = {"id": car.listing_id, "url": site.url_of(car), **site.facts(car),
                                   "sponsored": car.sponsored}
        if car.gallery_kind == "ld":
            listing["gallery"] = [{"url": p, "alt": f"photo {k + 1}"} for k, p in enumerate(paths)]
        state = None
        if car.gallery_kind == "state":
            state = js_literal({"listing": {
                "id": car.listing_id, "sold": False, "reserved": None, "booked": False, "inspected": True,
                "gallery": [{"src": f"//{host}{p}", "w": 400, "h": 225} for p in paths]},
                "user": {"loggedIn": False, "city": REGION}})
        next_data = {"props": {"pageProps": {"listing": listing}, "__N_SSP": True}, "page": "/cars/[id]/[slug]",
                     "query": {"id": car.listing_id, "slug": request.path_params["slug"]}, "buildId": site.build,
                     "isFallback": False, "gssp": True}
        ld = {"@context": "https://schema.org", **site.ld_car(car, base, ld_images)}
        html = _env.get_template("detail.html").render(
            c=c, build=site.build, car=car, lst=car.listing, ld_json=script_json(ld), state=state,
            next_data=script_json(next_data), km=indian_digits(car.listing.km), price=lakh(car.listing.price))
        return HTMLResponse(html)

    async def photo(request: Request) -> Response:
        match = _PHOTO_NAME.match(request.path_params["name"])
        spec = site.inventory.photos_by_token.get(match.group(1)) if match else None
        if match is None or spec is None:
            return PlainTextResponse("no such photo", status_code=404)
        size: tuple[int, int] | None = None
        quality = 80
        if match.group(2):
            size, quality = CR_SIZE, CR_QUALITY
        elif "w" in request.query_params or "h" in request.query_params:
            w, h = _int_param(request, "w", 0), _int_param(request, "h", 0)
            size = (w or 0, h or 0)
            if size not in THUMB_SIZES:
                return PlainTextResponse(f"unsupported size; use one of {sorted(THUMB_SIZES)}", status_code=400)
        fault = site.faults.pick(f"{request.url.path}?{request.url.query}")
        early = await transient_response(fault)
        if early is not None:
            return early
        if size is None:
            body = await run_in_threadpool(site.store.get, spec)
        else:
            body = await run_in_threadpool(site.store.thumb, spec, size, quality)
        return image_response(body, fault, site.faults)

    async def go(request: Request) -> Response:
        return RedirectResponse(f"{site.offsite_base}/cdn/photos/{request.path_params['token']}.jpg",
                                status_code=302)

    async def sell(request: Request) -> Response:
        return HTMLResponse(_env.get_template("sell.html").render(c=c, build=site.build))

    async def asset(request: Request) -> Response:
        body = site.scripts.get(request.url.path)
        if body is None:
            return PlainTextResponse("not found", status_code=404)
        kind = "text/css" if request.url.path.endswith(".css") else "application/javascript"
        return Response(body, media_type=kind, headers={"Cache-Control": "public, max-age=31536000, immutable"})

    async def robots(request: Request) -> Response:
        return PlainTextResponse(site.robots())

    async def admin(request: Request) -> Response:
        return PlainTextResponse("forbidden", status_code=403)

    def g(endpoint: Any) -> Any:
        return guarded(site.faults, endpoint)

    return Starlette(routes=[
        Route("/", home),
        Route("/used-cars/{city}", g(listing_page)),
        Route("/api/v1/search", g(search)),
        Route("/api/v1/listings/{listing_id}/gallery", g(gallery_api)),
        Route("/cars/{listing_id}/{slug}", g(detail)),
        Route("/cdn/photos/{name}", photo),
        Route("/cdn/p/photos/{name}", photo),
        Route("/cdn/big/{token}.jpg", oversize_response),
        Route("/cdn/bomb/{token}.png", bomb_response),
        Route("/cdn/go/{token}.jpg", go),
        Route("/sell-car", sell),
        Route("/_next/static/{rest:path}", asset),
        Route("/robots.txt", robots),
        Route("/admin/{rest:path}", admin),
    ])

