"""BeautifulSoup parsers for listing and detail pages, driven by a site profile.

Pure functions of HTML text, so most scraper tests need no browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup

from scraper.profile import Profile, ProfileError


@dataclass(frozen=True)
class Card:
    listing_id: str
    url: str  # absolute detail URL
    title: str


def listing_id(profile: Profile, url: str) -> str:
    path = urlsplit(url).path
    match = re.search(profile.detail.id_pattern, path)
    if not match:
        raise ProfileError(
            f"profile {profile.name}: detail.id_pattern {profile.detail.id_pattern!r} does not match {url}")
    return match.group(1)


def parse_cards(html: str, profile: Profile, page_url: str) -> list[Card]:
    """Listing cards on a page, in page order; a card without link or title is a profile error."""
    soup = BeautifulSoup(html, "html.parser")
    cards = []
    for node in soup.select(profile.listing.card):
        link = node.select_one(profile.listing.link) if node.name != "a" else node
        title = node.select_one(profile.listing.title)
        if link is None or not link.get("href"):
            raise ProfileError(
                f"profile {profile.name}: selector listing.link {profile.listing.link!r} found no link "
                f"in a card at {page_url}")
        if title is None:
            raise ProfileError(
                f"profile {profile.name}: selector listing.title {profile.listing.title!r} matched nothing "
                f"in a card at {page_url}")
        url = urljoin(page_url, str(link["href"]))
        cards.append(Card(listing_id(profile, url), url, " ".join(title.get_text().split())))
    return cards


def parse_gallery(html: str, profile: Profile, page_url: str) -> list[str]:
    """Absolute image URLs of a detail page's gallery, in order, without repeats."""
    soup = BeautifulSoup(html, "html.parser")
    urls: list[str] = []
    for img in soup.select(profile.detail.images):
        for attr in profile.detail.image_attrs:
            value = img.get(attr)
            if value and not str(value).startswith("data:"):
                url = urljoin(page_url, str(value))
                if url not in urls:
                    urls.append(url)
                break
    return urls


def next_page(html: str, profile: Profile, page_url: str) -> str | None:
    if not profile.listing.next_page:
        return None
    link = BeautifulSoup(html, "html.parser").select_one(profile.listing.next_page)
    return urljoin(page_url, str(link["href"])) if link is not None and link.get("href") else None


def is_done(html: str, profile: Profile) -> bool:
    done = profile.listing.done
    return done is not None and BeautifulSoup(html, "html.parser").select_one(done) is not None
