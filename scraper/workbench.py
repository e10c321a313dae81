"""``carid scrape try PROFILE SOURCE``: what a profile extracts from one page, rule by rule.

In the spirit of ``scrapy shell``: a person saves a listing page and a detail page from the browser (or
points at a live URL, or at a saved JSON API answer), and iterates on the profile offline. The report shows
the cards (titles with the label each gets, facts, links), the photo URLs, and every rule that matched
nothing, with the reason where the source itself is missing (no JSON-LD, no such script).
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urljoin, urlsplit

from scraper.crawl import decode, fill
from scraper.fetch import Fetcher
from scraper.fields.errors import PageError
from scraper.fields.extract import Document, missing_source, nodes, values
from scraper.fields.facts import FACT_NAMES
from scraper.labels import label_from_title
from scraper.parse import Card, gallery, is_done, next_page, read_card
from scraper.profile import Profile, Rule

log = logging.getLogger(__name__)
PageKind = Literal["auto", "listing", "detail"]


class SourceError(Exception):
    """A SOURCE that is neither a readable file, a URL nor a region of the profile."""


@dataclass(frozen=True)
class RuleCheck:
    """How one rule fared: on how many cards (or on the page) it gave a value."""

    key: str  # listing.title.0, detail.photos, ...
    rule: str  # the rule as written
    hits: int
    total: int  # cards it was tried on (1 for a page-level rule)
    note: str = ""  # why nothing matched, when the source itself is missing

    @property
    def empty(self) -> bool:
        return self.hits == 0


@dataclass
class TryReport:
    source: str
    url: str  # the URL links were resolved against
    listing: bool = False  # the document was read as a listing page
    detail: bool = False  # ... as a detail page
    matched: int = 0  # card nodes matched by listing.card
    cards: list[Card] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    photos: list[str] = field(default_factory=list)
    checks: list[RuleCheck] = field(default_factory=list)
    following: str = ""  # the next page, as the profile finds it
    errors: list[str] = field(default_factory=list)  # unreadable data on the page (named by URL)

    @property
    def ok(self) -> bool:
        """Something was extracted: a card, or a photo."""
        return bool(self.cards or self.photos)

    def lines(self, limit: int = 20) -> list[str]:
        out = [f"source {self.source}" + (f" (links resolved against {self.url})" if self.url != self.source else "")]
        if self.listing:
            skipped = ", ".join(f"{k} {v}" for k, v in sorted(self.skipped.items()))
            out.append(f"listing: {self.matched} card(s) matched, {len(self.cards)} parsed"
                       + (f", skipped: {skipped}" if skipped else ""))
            for i, card in enumerate(self.cards[:limit], 1):
                out.append(f"  {i:>3}. [{label_from_title(card.title)}] {card.title}")
                out.append(f"       id {card.listing_id}  {card.url}")
                facts = "  ".join(f"{k} {v}" for k, v in card.facts.as_row().items() if v)
                if facts:
                    out.append(f"       {facts}")
                for url in card.photos[:3]:
                    out.append(f"       photo {url}")
                if len(card.photos) > 3:
                    out.append(f"       ... {len(card.photos) - 3} more photos")
            if len(self.cards) > limit:
                out.append(f"  ... {len(self.cards) - limit} more cards")
            if self.following:
                out.append(f"next page: {self.following}")
        if self.detail:
            out.append(f"detail: {len(self.photos)} photo(s)")
            out += [f"  {url}" for url in self.photos[:limit]]
            if len(self.photos) > limit:
                out.append(f"  ... {len(self.photos) - limit} more photos")
        out.append("rules:")
        for check in self.checks:
            mark = "NOTHING" if check.empty else f"{check.hits}/{check.total}" if check.total else f"{check.hits} found"
            out.append(f"  {mark:>8}  {check.key} {check.rule}" + (f"  ({check.note})" if check.note else ""))
        out += [f"error: {e}" for e in self.errors]
        if not self.ok:
            out.append("nothing extracted")
        return out


def _card_rules(profile: Profile) -> list[tuple[str, Rule]]:
    lp = profile.listing
    rules: list[tuple[str, Rule]] = [("listing.link", lp.link)]
    rules += [(f"listing.title.{i}" if len(lp.title) > 1 else "listing.title", r) for i, r in enumerate(lp.title)]
    if lp.id is not None:
        rules.append(("listing.id", lp.id))
    rules += [(f"listing.facts.{k}", lp.facts[k]) for k in FACT_NAMES if k in lp.facts]
    if lp.photos is not None:
        rules.append(("listing.photos", lp.photos))
    return rules


def _kind(key: str) -> Literal["text", "link", "image"]:
    return "link" if key == "listing.link" else "image" if key.endswith("photos") else "text"


def inspect(doc: Document, profile: Profile, as_kind: PageKind = "auto", source: str = "") -> TryReport:
    """Apply the profile to one document. ``auto``: a listing page when cards match, else a detail page."""
    report = TryReport(source or doc.url, doc.url)
    card_rule = profile.listing.card
    try:
        found = nodes(card_rule, doc) if as_kind != "detail" else []
    except PageError as exc:
        report.errors.append(str(exc))
        found = []
    if as_kind != "detail":
        note = "" if found else (_missing(card_rule, doc) or _js_hint(card_rule, doc))
        report.checks.append(RuleCheck("listing.card", card_rule.describe(), len(found), 0, note))
    if as_kind == "listing" or found:
        report.listing, report.matched = True, len(found)
        hits: Counter[str] = Counter()
        for node in found:
            got = read_card(profile, doc, node)
            if isinstance(got, str):
                report.skipped[got] += 1
            elif got.url not in {c.url for c in report.cards}:
                report.cards.append(got)
            for key, rule in _card_rules(profile):
                hits[key] += bool(values(rule, doc, node, _kind(key)))
        for key, rule in _card_rules(profile):
            report.checks.append(RuleCheck(key, rule.describe(), hits[key], len(found)))
        if profile.listing.mode == "pages":
            report.following = next_page(doc.text, profile, doc.url) or ""
            report.checks.append(RuleCheck("listing.next_page", repr(profile.listing.next_page),
                                           int(bool(report.following)), 1, "" if report.following else
                                           "no next-page link: the last page, or a wrong selector"))
        if profile.listing.done:
            done = is_done(doc.text, profile)
            report.checks.append(RuleCheck("listing.done", repr(profile.listing.done), int(done), 1,
                                           "" if done else "not on the page (yet): fine for a page still loading"))
    if as_kind == "detail" or (as_kind == "auto" and not found):
        report.detail = True
        photos_rule: Rule | None = profile.detail.photos if profile.detail else profile.listing.photos
        key = "detail.photos" if profile.detail else "listing.photos"
        try:
            report.photos = gallery(doc, profile)
        except PageError as exc:
            report.errors.append(str(exc))
        if photos_rule is not None:
            note = "" if report.photos else (_missing(photos_rule, doc) or "")
            report.checks.append(RuleCheck(key, photos_rule.describe(), int(bool(report.photos)), 1, note))
    if as_kind == "auto" and not found and report.photos:  # a detail page: no cards expected on it
        report.checks = [c for c in report.checks if c.key != "listing.card"]
    return report


def _js_hint(rule: Rule, doc: Document) -> str:
    if rule.source == "css" and "<script" in doc.text:
        return ("if a browser shows cards here, JavaScript builds them: save the page after it rendered "
                "(the DOM, not the source), or try the live URL with --browser")
    return ""


def _missing(rule: Rule, doc: Document) -> str | None:
    try:
        return missing_source(rule, doc)
    except PageError as exc:
        return str(exc)


def _is_url(source: str) -> bool:
    return urlsplit(source).scheme in ("http", "https")


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def resolve(source: str, profile: Profile) -> str:
    """A region name of the profile stands for its first listing page on the profile's site."""
    if source in profile.regions and not Path(source).exists():
        return fill(urljoin(profile.base_url, profile.regions[source]), profile.listing.first_page, 0, "",
                    profile.listing.page_size)
    return source


def load(source: str, profile: Profile, base_url: str | None = None, browser: bool | None = None,
         as_kind: PageKind = "auto") -> Document:
    """The document SOURCE names: a saved HTML or JSON file (links resolved against ``base_url``, else the
    profile's site), or a live URL fetched politely (robots.txt honoured), in the browser where the
    profile's pages need JavaScript (``browser`` None) or when asked."""
    source = resolve(source, profile)
    if not _is_url(source):
        path = Path(source).expanduser()
        if not path.is_file():
            raise SourceError(f"{source}: no such file, not an http(s) URL, and not a region of profile "
                              f"{profile.name} (regions: {', '.join(profile.regions)})")
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        kind = "application/json" if path.suffix.lower() == ".json" else "text/html"
        return Document(base_url or profile.base_url.rstrip("/") + "/", text, kind)
    if browser is None:
        detail_js = profile.detail is not None and profile.detail.browser
        browser = profile.listing.uses_browser if as_kind != "detail" else detail_js
    if browser:
        return _rendered(source, profile)
    fetcher = Fetcher(profile.politeness.politeness())
    resp, text = fetcher.get(source, decode)
    return Document(resp.url, text, resp.content_type)


def _rendered(url: str, profile: Profile) -> Document:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from scraper.browser import chromium

    fetcher = Fetcher(profile.politeness.politeness())
    if not fetcher.allowed(url):
        raise SourceError(f"robots.txt of {url} forbids it")
    css = profile.listing.card.css

    def ready(d: object) -> bool:  # cards on a listing page, or photos on a detail page
        return bool(css and driver.find_elements(By.CSS_SELECTOR, css)) or bool(
            gallery(Document(url, driver.page_source), profile))

    with chromium(loopback_only=_loopback(url)) as driver:
        driver.get(url)
        with contextlib.suppress(TimeoutException):
            WebDriverWait(driver, profile.listing.wait_s).until(ready)
        return Document(driver.current_url, driver.page_source)
