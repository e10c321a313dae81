"""JSON-LD (``<script type="application/ld+json">``) through extruct.

extruct reads every JSON-LD block of a page (lists are flattened into one list of items), tolerates the
comments and trailing commas sites leave in them, and is the library Scrapy's ecosystem uses for this.
"""

from __future__ import annotations

from typing import Any

from extruct.jsonld import JsonLdExtractor

from scraper.fields.errors import PageError


def jsonld_items(html: str, url: str) -> list[Any]:
    """Every JSON-LD item on the page, in page order (``@graph`` containers are kept as they are)."""
    if "application/ld+json" not in html:
        return []  # the common case on a page without any: skips an lxml parse
    try:
        items = JsonLdExtractor().extract(html, base_url=url)
    except ValueError as exc:
        raise PageError(url, f"a JSON-LD script is not valid JSON ({str(exc).splitlines()[0]})") from None
    return list(items)
