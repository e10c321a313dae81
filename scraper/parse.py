"""Listing cards and detail galleries from fetched documents, driven by a site profile.

Pure functions of page text (through :mod:`scraper.fields.extract`), so most scraper tests need no browser.
A card without a link, a title or an id (a promo or finance tile matched by the same selector) is skipped
and counted; a page fails only when cards matched and none of them parses.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from urllib.parse import urljoin, urlsplit

from scraper.fields.css import select, soup
from scraper.fields.extract import Document, first, nodes, text_pieces, values
from scraper.fields.facts import Facts, facts_from_text
from scraper.profile import Profile, ProfileError, Rule

#: Why a matched card was left out, by summary key.
SKIP_REASONS = ("no-link", "no-title", "no-id")


@dataclass(frozen=True)
class Card:
    listing_id: str
    url: str  # absolute detail URL
    title: str
    facts: Facts = field(default_factory=Facts)
    photos: tuple[str, ...] = ()  # absolute photo URLs when the card carries them (listing.photos)


@dataclass
class CardPage:
    """What one listing document gave: its cards, how many card nodes matched, and why others were skipped."""

    cards: list[Card]
    matched: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def listing_id(profile: Profile, url: str) -> str:
    path = urlsplit(url).path
    match = re.search(profile.listing.id_pattern, path)
    if not match:
        raise ProfileError(
            f"profile {profile.name}: listing.id_pattern {profile.listing.id_pattern!r} does not match {url}")
    return match.group(1) if match.groups() else match.group(0)


def _safe_id(value: str) -> str:
    """Ids go into a whitespace-separated journal and file listings: no white space or slashes."""
    return re.sub(r"[\s/\\]+", "-", value.strip())


def read_card(profile: Profile, doc: Document, node: object) -> Card | str:
    """One card, or the reason it is skipped (one of :data:`SKIP_REASONS`)."""
    lp = profile.listing
    url = first(lp.link, doc, node, "link")
    if not url:
        return "no-link"
    title = text_pieces(lp.title, doc, node)
    if not title:
        return "no-title"
    if lp.id is not None:
        ident = _safe_id(first(lp.id, doc, node))
    else:
        match = re.search(lp.id_pattern, urlsplit(url).path)
        ident = _safe_id((match.group(1) if match.groups() else match.group(0)) if match else "")
    if not ident:
        return "no-id"
    facts = facts_from_text({name: first(rule, doc, node) for name, rule in lp.facts.items()})
    photos = tuple(values(lp.photos, doc, node, "image")) if lp.photos is not None else ()
    return Card(ident, url, title, facts, photos)


def _culprit(profile: Profile, reason: str) -> str:
    lp = profile.listing
    if reason == "no-link":
        return f"rule listing.link {lp.link.describe()} found no link"
    if reason == "no-title":
        return f"rule listing.title {', '.join(r.describe() for r in lp.title)} matched nothing"
    if lp.id is not None:
        return f"rule listing.id {lp.id.describe()} matched nothing"
    return f"listing.id_pattern {lp.id_pattern!r} matched no link"


def read_cards(doc: Document, profile: Profile) -> CardPage:
    """Every card of a listing document, in order, without repeats; raises :class:`ProfileError` (naming
    the rule and the URL) when cards matched and none parsed, and PageError for unreadable data."""
    page = CardPage([])
    seen: set[str] = set()
    found = nodes(profile.listing.card, doc)
    page.matched = len(found)
    for node in found:
        got = read_card(profile, doc, node)
        if isinstance(got, str):
            page.skipped[got] += 1
        elif got.url not in seen:
            seen.add(got.url)
            page.cards.append(got)
    if found and not page.cards:
        reason = page.skipped.most_common(1)[0][0]
        raise ProfileError(f"profile {profile.name}: {_culprit(profile, reason)} in any of the {len(found)} "
                           f"cards at {doc.url}")
    return page


def parse_cards(html: str, profile: Profile, page_url: str) -> list[Card]:
    """Listing cards on an HTML page, in page order (see :func:`read_cards`)."""
    return read_cards(Document(page_url, html), profile).cards


def gallery(doc: Document, profile: Profile) -> list[str]:
    """Absolute photo URLs of a detail document's gallery, in order, without repeats."""
    rule: Rule | None = profile.detail.photos if profile.detail is not None else profile.listing.photos
    return values(rule, doc, None, "image") if rule is not None else []


def with_detail_facts(card: Card, doc: Document, profile: Profile) -> Card:
    """``card`` with the facts its detail page shows (``detail.facts``) where the card itself showed none."""
    rules = profile.detail.facts if profile.detail is not None else {}
    if not rules:
        return card
    found = facts_from_text({name: first(rule, doc, None) for name, rule in rules.items()})
    merged = {f.name: getattr(found, f.name) for f in fields(Facts)
              if getattr(card.facts, f.name) in (None, "") and getattr(found, f.name) not in (None, "")}
    return replace(card, facts=replace(card.facts, **merged)) if merged else card


def parse_gallery(html: str, profile: Profile, page_url: str) -> list[str]:
    return gallery(Document(page_url, html), profile)


def next_page(html: str, profile: Profile, page_url: str) -> str | None:
    if not profile.listing.next_page:
        return None
    found = select(soup(html), profile.listing.next_page)
    return urljoin(page_url, str(found[0]["href"])) if found and found[0].get("href") else None


def is_done(html: str, profile: Profile) -> bool:
    done = profile.listing.done
    return done is not None and bool(select(soup(html), done))
