"""JSON in a ``<script>`` element, such as Next.js's ``<script id="__NEXT_DATA__" type="application/json">``."""

from __future__ import annotations

import json
from typing import Any

from bs4 import BeautifulSoup

from scraper.fields.css import select
from scraper.fields.errors import PageError


def script_json(doc: BeautifulSoup, selector: str, url: str) -> Any | None:
    """The JSON of the first script matching ``selector``; None when no script matches."""
    found = select(doc, selector)
    if not found:
        return None
    text = found[0].string or found[0].get_text()
    try:
        return json.loads(text)
    except ValueError as exc:
        raise PageError(url, f"script {selector!r} is not valid JSON ({exc})") from None
