"""Site profiles: everything site-specific about a crawl, in YAML.

A real marketplace is one new profile away: start URLs per region, how the listing pages load, where each
field of a card comes from, and politeness. The language (version 2) is described in docs/profiles.md;
version 1 profiles (plain CSS selectors, ``detail.images`` and ``image_attrs``) still load unchanged.

Every field is a *rule* that reads one source: CSS (an attribute or the text), JSON-LD, a JSON script blob,
a JavaScript object literal, Next.js flight data, or JSON (an API response or a JSON card), queried with
JMESPath. Selectors, regexes and queries are compiled when the profile loads, so a typo is one line naming
the file and the key, before any page is fetched.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from scraper.fetch import Politeness
from scraper.fields.css import SelectorError, check_selector
from scraper.fields.facts import FactName
from scraper.fields.jsonapi import QueryError, compile_query
from scraper.fields.urls import Rewrite

PROFILE_DIR = Path(__file__).parent / "profiles"
#: The sources a rule can read, as profile keys. Exactly one per rule.
SOURCES = ("css", "jsonld", "script", "js", "next_f", "json")
#: Listing modes that drive a browser (the others use plain HTTP).
BROWSER_MODES = ("load-more", "scroll", "pages")
#: Placeholders of a URL template (url-pages and api modes).
PLACEHOLDERS = ("{page}", "{offset}", "{cursor}", "{size}")


class ProfileError(Exception):
    """A profile that is missing, malformed, or whose rules no longer match the site."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RewriteConf(_Strict):
    """``{from: REGEX, to: REPLACEMENT}``: turns a thumbnail URL into the full-size photo's."""

    pattern: str = Field(alias="from")
    to: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        _regex(value)
        return value

    def rewrite(self) -> Rewrite:
        return Rewrite(self.pattern, self.to)


def _regex(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"bad regex {value!r}: {exc}") from None


class Rule(_Strict):
    """Where one field comes from. A bare string in YAML is ``{css: STRING}``."""

    css: str | None = None  # CSS selector, inside the card (card fields) or the page
    attr: list[str] | None = None  # attributes, first non-empty wins; none: text (links: href, photos: auto)
    exclude: str | None = None  # CSS of descendants left out of the text (badges)
    jsonld: str | None = None  # JMESPath over the page's JSON-LD items (a list)
    script: str | None = None  # CSS of a <script> holding JSON (``"#__NEXT_DATA__"``)
    js: str | None = None  # a variable assigned a JavaScript object (``window.__PRELOADED_STATE__``)
    next_f: str | None = None  # JMESPath over the rows of Next.js ``self.__next_f`` flight data
    json_path: str | None = Field(None, alias="json")  # JMESPath over a JSON card or an API response
    path: str = "@"  # JMESPath applied to what ``script`` / ``js`` found
    pattern: str | None = None  # regex: keep its first group (or the whole match); no match: no value
    drop: list[str] = []  # regexes removed from text ("Sponsored")
    rewrite: list[RewriteConf] = []  # URL rewrites, in order

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"css": data}
        if isinstance(data, dict) and isinstance(data.get("attr"), str):
            return {**data, "attr": [data["attr"]]}
        return data

    @model_validator(mode="after")
    def _check(self) -> Rule:
        given = [s for s in SOURCES if self.value_of(s) is not None]
        if len(given) != 1:
            raise ValueError(f"a rule needs exactly one source of {', '.join(SOURCES)} (got {given or 'none'})")
        if self.source != "css" and (self.attr or self.exclude):
            raise ValueError("attr and exclude apply to css rules only")
        if self.path != "@" and self.source not in ("script", "js"):
            raise ValueError("path applies to script and js rules (jsonld, json and next_f take the path itself)")
        try:
            for css in (self.css, self.exclude, self.script):
                if css is not None:
                    check_selector(css)
            for q in (self.jsonld, self.next_f, self.json_path, self.path):
                if q is not None:
                    compile_query(q)
        except (SelectorError, QueryError) as exc:
            raise ValueError(str(exc)) from None
        for regex in (self.pattern, *self.drop):
            if regex is not None:
                _regex(regex)
        return self

    def value_of(self, source: str) -> str | None:
        return self.json_path if source == "json" else getattr(self, source)

    @property
    def source(self) -> str:
        return next(s for s in SOURCES if self.value_of(s) is not None)

    @property
    def rewrites(self) -> tuple[Rewrite, ...]:
        return tuple(r.rewrite() for r in self.rewrite)

    def describe(self) -> str:
        """The rule as a person wrote it, for messages."""
        shown = self.model_dump(by_alias=True, exclude_defaults=True)
        return "{" + ", ".join(f"{k}: {v!r}" for k, v in shown.items()) + "}"


class ListingPages(_Strict):
    mode: Literal["load-more", "scroll", "pages", "url-pages", "api"]
    card: Rule  # one listing card: CSS elements, or JSON objects (JSON-LD, script, js, next_f, json)
    link: Rule  # in the card: the detail page's URL
    title: list[Rule]  # in the card: the title, in pieces joined with spaces
    id: Rule | None = None  # in the card: the listing id (else id_pattern on the link)
    id_pattern: str = r"([^/]+?)(?:\.html)?/?$"  # regex on the detail URL's path: the listing id
    facts: dict[FactName, Rule] = {}  # in the card: price, year, km, fuel, transmission, city
    photos: Rule | None = None  # in the card: photo URLs (used when the profile has no detail section)
    load_more: str | None = None  # CSS of the button (mode load-more)
    done: str | None = None  # CSS present once everything is loaded
    next_page: str | None = None  # CSS of the next-page link (mode pages)
    next: str | None = None  # JMESPath over an API response: the next cursor, page number or URL
    first_page: int = Field(1, ge=0)  # {page} of the first page (url-pages, api)
    page_size: int = Field(0, ge=0)  # {size} in URL templates
    browser: bool = False  # url-pages: render each page in the browser (cards built by JavaScript)
    end_after: int = Field(3, ge=1)  # scrolls / clicks / pages without a new card that end the list
    max_pages: int = Field(200, ge=1)  # page / click cap against endless pagination
    wait_s: float = Field(10.0, gt=0)  # explicit wait for new cards

    @field_validator("title", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return value if isinstance(value, list) else [value]

    @field_validator("id_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        _regex(value)
        return value

    @field_validator("load_more", "done", "next_page")
    @classmethod
    def _selector(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                check_selector(value)
            except SelectorError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("next")
    @classmethod
    def _query(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compile_query(value)
            except QueryError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ListingPages:
        html_cards = self.card.source == "css"
        if self.mode == "api" and self.card.source != "json":
            raise ValueError("mode api reads JSON: card must be a json rule (e.g. {json: items})")
        if self.mode == "load-more" and not self.load_more:
            raise ValueError("mode load-more needs load_more (CSS of the button)")
        if self.mode == "pages" and not self.next_page:
            raise ValueError("mode pages needs next_page (CSS of the next-page link)")
        if self.next is not None and self.mode != "api":
            raise ValueError("[next] a JMESPath over an API response: applies to mode api only")
        if self.browser and self.mode != "url-pages":
            raise ValueError("[browser] applies to mode url-pages (load-more, scroll and pages always use the "
                             "browser, api never)")
        fields: list[tuple[str, Rule | None]] = [("link", self.link), ("id", self.id), ("photos", self.photos),
                                                 *((f"title.{i}", r) for i, r in enumerate(self.title)),
                                                 *((f"facts.{k}", r) for k, r in self.facts.items())]
        for key, rule in fields:
            if rule is None:
                continue
            if html_cards and rule.source != "css":
                raise ValueError(f"[{key}] cards are HTML elements (card is a css rule), so this must be a css rule")
            if not html_cards and rule.source != "json":
                raise ValueError(f"[{key}] cards are JSON objects (card is a {self.card.source} rule), so this must "
                                 "be a json rule (a JMESPath inside the card)")
        return self

    @property
    def uses_browser(self) -> bool:
        return self.mode in BROWSER_MODES or self.browser


class DetailPages(_Strict):
    photos: Rule  # the gallery's photo URLs
    facts: dict[FactName, Rule] = {}  # facts the detail page shows and the card does not (the card's win)
    browser: bool = False  # render the page in the browser first (a gallery built by JavaScript)
    wait_s: float = Field(10.0, gt=0)  # with browser: how long to wait for the photos rule to match

    @model_validator(mode="before")
    @classmethod
    def _version1(cls, data: Any) -> Any:
        """v1's ``images`` + ``image_attrs`` are ``photos: {css: images, attr: image_attrs}``."""
        if isinstance(data, dict) and "images" in data and "photos" not in data:
            data = dict(data)
            data["photos"] = {"css": data.pop("images"), "attr": data.pop("image_attrs", ["data-src", "src"])}
        return data


class PolitenessConf(_Strict):
    user_agent: str = "carid-scraper/0.1"
    delay_s: float = Field(0.0, ge=0)
    concurrency: int = Field(4, ge=1, le=32)
    timeout_s: float = Field(15.0, gt=0)
    max_retries: int = Field(5, ge=0)
    backoff_s: float = Field(0.2, ge=0)
    max_retry_after_s: float = Field(30.0, ge=0)
    max_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    min_side: int = Field(64, ge=1)
    allowed_hosts: list[str] = []

    def politeness(self, **override: float) -> Politeness:
        values = self.model_dump() | {k: v for k, v in override.items() if v is not None}
        values["allowed_hosts"] = tuple(values["allowed_hosts"])
        values.pop("min_side")
        return Politeness(**values)


class Profile(_Strict):
    version: Literal[1, 2] = 2
    name: str
    base_url: str
    demo: str | None = None  # served by the embedded demo marketplace: which of its sites
    regions: dict[str, str]  # region -> path (or URL template) of its first listing page
    listing: ListingPages
    detail: DetailPages | None = None  # none: the cards carry the photos (listing.photos)
    politeness: PolitenessConf = PolitenessConf()

    @model_validator(mode="before")
    @classmethod
    def _version1(cls, data: Any) -> Any:
        """v1 kept the listing id's regex under ``detail``."""
        if isinstance(data, dict) and isinstance(data.get("detail"), dict) and "id_pattern" in data["detail"]:
            data = {**data, "detail": dict(data["detail"])}
            pattern = data["detail"].pop("id_pattern")
            if isinstance(data.get("listing"), dict):
                data["listing"] = {"id_pattern": pattern, **data["listing"]}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        if self.detail is None and self.listing.photos is None:
            raise ValueError("[detail] needed unless listing.photos gives each card's photos")
        if self.listing.mode in ("url-pages", "api"):
            for region, path in self.regions.items():
                if not any(p in path for p in PLACEHOLDERS):
                    raise ValueError(f"[regions.{region}] mode {self.listing.mode} needs a URL template with "
                                     f"one of {', '.join(PLACEHOLDERS)} (got {path!r})")
        return self


def _known_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The profile model a field's annotation holds (``Rule``, ``list[Rule]``, ``dict[str, Rule]``, ...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _where(loc: tuple[Any, ...]) -> tuple[str, type[BaseModel] | None]:
    """The dotted key of an error location, and the model its last key belongs to."""
    parts: list[str] = []
    model: type[BaseModel] | None = Profile
    for part in loc:
        if isinstance(part, str) and ("[" in part or "(" in part):
            continue  # pydantic's name for a validator or a union branch, not a key a person wrote
        parts.append(str(part))
        if model is None or isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        if field is not None:
            model = _model_in(field.annotation)
    return ".".join(parts), model


def _message(path: Path, exc: ValidationError) -> str:
    errors = exc.errors()
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])  # a typo explains the rest
    key, model = _where(first["loc"][:-1] if first["type"] == "extra_forbidden" else first["loc"])
    if first["type"] == "extra_forbidden":
        bad = str(first["loc"][-1])
        known = _known_keys(model) if model is not None else []
        hint = difflib.get_close_matches(bad, known, n=1)
        where = f"{key}.{bad}" if key else bad
        return (f"site profile {path}: key '{where}': unknown key"
                + (f" (did you mean '{hint[0]}'?)" if hint else f" (known: {', '.join(known)})" if known else ""))
    msg = str(first["msg"]).removeprefix("Value error, ")
    sub = re.match(r"\[([\w.-]+)\] ", msg)
    if sub:  # a check across keys names the key it is about
        key, msg = ".".join(k for k in (key, sub.group(1)) if k), msg[sub.end():]
    return f"site profile {path}: key '{key or '(top)'}': {msg}"


def profile_path(name_or_path: str) -> Path:
    path = Path(name_or_path)
    return PROFILE_DIR / f"{name_or_path}.yaml" if not path.suffix else path


def load_profile(name_or_path: str) -> Profile:
    """A shipped profile by name (``scraper/profiles/<name>.yaml``) or any YAML path."""
    path = profile_path(name_or_path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        shipped = ", ".join(sorted(p.stem for p in PROFILE_DIR.glob("*.yaml")))
        raise ProfileError(f"no site profile {path} (shipped: {shipped})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ProfileError(f"site profile {path} is not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise ProfileError(f"site profile {path}: expected a mapping of keys, got {type(raw).__name__}")
    try:
        return Profile.model_validate(raw)
    except ValidationError as exc:
        raise ProfileError(_message(path, exc)) from None


def revised(profile: Profile, **sections: dict[str, Any]) -> Profile:
    """A copy of ``profile`` with some keys of its sections replaced (``listing={"title": "h3"}``),
    validated as a profile file is."""
    data = profile.model_dump(by_alias=True, exclude_none=True)
    for section, changes in sections.items():
        data[section] = {**data.get(section, {}), **changes}
    return Profile.model_validate(data)
