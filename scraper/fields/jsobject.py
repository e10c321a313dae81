"""JavaScript object literals in inline scripts, read with chompjs.

Sites assign their state as JavaScript, not JSON: ``window.__PRELOADED_STATE__ = {items: [...], sold: !1}``
(unquoted keys, single quotes, trailing commas, ``!1``, ``void 0``), sometimes wrapped in
``JSON.parse("...")``. Next.js app-router pages stream theirs as ``self.__next_f.push([1, "..."])`` string
chunks. chompjs parses the literal; the minifier idioms it keeps as text (``!0``, ``!1``, ``void 0``,
``undefined``) are turned into JSON values here.
"""

from __future__ import annotations

import json
import re
from typing import Any

import chompjs
from bs4 import BeautifulSoup

from scraper.fields.errors import PageError

_IDIOMS: dict[str, Any] = {"!0": True, "!1": False, "void 0": None, "undefined": None}
_NEXT_F = re.compile(r"self\.__next_f\.push\(")
_FLIGHT_LINE = re.compile(r"^([0-9a-fA-F]+):([A-Z]{0,2})(.*)$")


def _scripts(doc: BeautifulSoup) -> list[str]:
    return [s.string or s.get_text() for s in doc.find_all("script") if not s.get("src")]


def _assignment(name: str) -> re.Pattern[str]:
    """``name = `` as a statement: ``window.X =``, ``var X =``, ``X=``, not ``X ==`` or ``a.X =``
    when ``name`` has no dot itself."""
    bare = name.removeprefix("window.")
    return re.compile(r"(?<![\w$.])(?:window\.|self\.|globalThis\.)?" + re.escape(bare) + r"\s*=(?!=)\s*")


def _fix(value: Any) -> Any:
    if isinstance(value, str):
        return _IDIOMS.get(value, value)
    if isinstance(value, list):
        return [_fix(v) for v in value]
    if isinstance(value, dict):
        return {k: _fix(v) for k, v in value.items()}
    return value


def parse_js(text: str, url: str, what: str) -> Any:
    """The first object or array literal in ``text`` (or the JSON inside ``JSON.parse("...")``)."""
    try:
        if text.startswith("JSON.parse("):
            inner: Any = chompjs.parse_js_object("[" + text[len("JSON.parse("):].split(")", 1)[0] + "]")
            if not inner or not isinstance(inner[0], str):
                raise ValueError("JSON.parse of something other than a string literal")
            return json.loads(inner[0])
        return _fix(chompjs.parse_js_object(text))
    except ValueError as exc:  # json.JSONDecodeError is a ValueError too
        raise PageError(url, f"{what} is not a JavaScript object the parser can read ({exc})") from None


def js_object(doc: BeautifulSoup, name: str, url: str) -> Any | None:
    """The value assigned to the variable ``name`` in the page's inline scripts; None when none assigns it."""
    pattern = _assignment(name)
    for text in _scripts(doc):
        match = pattern.search(text)
        if match:
            return parse_js(text[match.end():], url, f"the value of {name}")
    return None


def next_flight(doc: BeautifulSoup, url: str) -> list[Any] | None:
    """The JSON rows of a Next.js app-router page's ``self.__next_f`` stream, in order; None when it has none.

    The stream is the concatenation of the string chunks pushed as ``[1, "..."]``; each line is
    ``<hex id>:<payload>``. Best effort, since the format is React's and undocumented: rows whose payload
    is not JSON (text chunks, module references) are left out.
    """
    chunks: list[str] = []
    for text in _scripts(doc):
        for match in _NEXT_F.finditer(text):
            pushed = parse_js(text[match.end():], url, "a self.__next_f.push(...) chunk")
            if isinstance(pushed, list) and len(pushed) >= 2 and pushed[0] == 1 and isinstance(pushed[1], str):
                chunks.append(pushed[1])
    if not chunks:
        return None
    rows: list[Any] = []
    for line in "".join(chunks).splitlines():
        row = _FLIGHT_LINE.match(line)
        if not row or row.group(2):  # I[...] module references, HL[...] hints: no listing data
            continue
        try:
            rows.append(json.loads(row.group(3)))
        except ValueError:
            continue  # a text row (T...) or a row split by a text chunk's own newlines
    return rows
