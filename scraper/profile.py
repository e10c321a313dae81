"""Site profiles: everything site-specific about a crawl, in YAML.

A real marketplace is one new profile away: start URLs per region, how the
listing pages load, CSS selectors, and politeness.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scraper.fetch import Politeness

PROFILE_DIR = Path(__file__).parent / "profiles"


class ProfileError(Exception):
    """A profile that is missing, malformed, or whose selectors no longer match the site."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ListingPages(_Strict):
    mode: Literal["load-more", "scroll", "pages"]
    card: str  # CSS: one listing card
    link: str  # CSS inside the card: the detail link
    title: str  # CSS inside the card: the title
    load_more: str | None = None  # CSS of the button (mode load-more)
    done: str | None = None  # CSS present once everything is loaded
    next_page: str | None = None  # CSS of the next-page link (mode pages)
    max_pages: int = Field(200, ge=1)  # page / click cap against endless pagination
    wait_s: float = Field(10.0, gt=0)  # explicit wait for new cards


class DetailPages(_Strict):
    images: str  # CSS of gallery images
    image_attrs: list[str] = ["data-src", "src"]  # first non-empty attribute wins
    id_pattern: str = r"([^/]+?)(?:\.html)?/?$"  # regex on the detail URL path: the listing id


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
    name: str
    base_url: str
    demo: Literal["main", "hyderabad"] | None = None  # served by the embedded demo marketplace
    regions: dict[str, str]  # region -> path of its first listing page
    listing: ListingPages
    detail: DetailPages
    politeness: PolitenessConf = PolitenessConf()


def load_profile(name_or_path: str) -> Profile:
    """A shipped profile by name (``scraper/profiles/<name>.yaml``) or any YAML path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILE_DIR / f"{name_or_path}.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        shipped = ", ".join(sorted(p.stem for p in PROFILE_DIR.glob("*.yaml")))
        raise ProfileError(f"no site profile {path} (shipped: {shipped})") from None
    except yaml.YAMLError:
        raise ProfileError(f"site profile {path} is not valid YAML") from None
    try:
        return Profile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ProfileError(f"site profile {path}: key '{key}': {first['msg']}") from None
