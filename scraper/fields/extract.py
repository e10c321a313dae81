"""Apply a profile's rules to a fetched document: the one place that knows every source.

A :class:`Document` is one fetched page or API response; it parses each source lazily, once (HTML, JSON-LD,
script JSON, JavaScript objects, flight data, JSON). :func:`nodes` gives a listing page's cards (HTML
elements or JSON objects); :func:`values` gives a field's strings inside a card or on the whole page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from bs4 import BeautifulSoup, Tag

from scraper.fields import css, jsobject, jsonapi, jsonld, scriptjson, urls
from scraper.fields.errors import PageError
from scraper.profile import Rule

Kind = Literal["text", "link", "image"]
#: Keys that carry a URL in a JSON object standing for a link or an image (schema.org ImageObject:
#: ``url`` / ``contentUrl``; many APIs: ``src`` / ``href``).
URL_KEYS = ("url", "contentUrl", "src", "href", "@id")
_MISSING = object()


@dataclass
class Document:
    """One fetched page or API response, with each source parsed on first use."""

    url: str
    text: str
    content_type: str = ""
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def _memo(self, key: str, make: Any) -> Any:
        got = self._cache.get(key, _MISSING)
        if got is _MISSING:
            got = self._cache[key] = make()
        return got

    @property
    def soup(self) -> BeautifulSoup:
        return self._memo("soup", lambda: css.soup(self.text))

    def jsonld(self) -> list[Any]:
        return self._memo("jsonld", lambda: jsonld.jsonld_items(self.text, self.url))

    def json(self) -> Any:
        return self._memo("json", lambda: jsonapi.parse_json(self.text, self.url, self.content_type))

    def script(self, selector: str) -> Any:
        return self._memo("script:" + selector, lambda: scriptjson.script_json(self.soup, selector, self.url))

    def js(self, name: str) -> Any:
        return self._memo("js:" + name, lambda: jsobject.js_object(self.soup, name, self.url))

    def next_f(self) -> Any:
        return self._memo("next_f", lambda: jsobject.next_flight(self.soup, self.url))


Node = Any  # a bs4 Tag (HTML cards) or a JSON value (JSON cards)


def source_root(rule: Rule, doc: Document) -> Any:
    """What a non-CSS rule reads on the whole document, before its path; None when the page lacks it."""
    source = rule.source
    if source == "jsonld":
        return doc.jsonld()
    if source == "script":
        return doc.script(rule.script or "")
    if source == "js":
        return doc.js(rule.js or "")
    if source == "next_f":
        return doc.next_f()
    return doc.json()


def missing_source(rule: Rule, doc: Document) -> str | None:
    """Why a page-level rule found nothing to query, or None when its source is on the page."""
    source = rule.source
    if source == "css":
        return None
    root = source_root(rule, doc)
    if root is None or root == []:
        return {"jsonld": "no JSON-LD on the page", "script": f"no script {rule.script!r} on the page",
                "js": f"no script assigns {rule.js!r}", "next_f": "no self.__next_f data on the page",
                "json": "the document is empty JSON"}[source]
    return None


def _query(rule: Rule, data: Any) -> Any:
    path = rule.value_of(rule.source) if rule.source in ("jsonld", "next_f", "json") else rule.path
    return jsonapi.query(path or "@", data)


def _flat(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return [v for item in value for v in _flat(item)]
    return [value]


def nodes(rule: Rule, doc: Document) -> list[Node]:
    """The cards on a listing document: the elements a CSS rule selects, or the JSON objects a query yields
    (a list of lists is flattened)."""
    if rule.source == "css":
        return css.select(doc.soup, rule.css or "")
    root = source_root(rule, doc)
    return [] if root is None else _flat(_query(rule, root))


def _scalar(value: Any, kind: Kind) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and kind != "text":
        found = next((value[k] for k in URL_KEYS if isinstance(value.get(k), str)), None)
        return found
    return None


def _raw(rule: Rule, doc: Document, node: Node, kind: Kind) -> list[str]:
    if rule.source == "css":
        scope = node if isinstance(node, Tag) else doc.soup
        found = css.select(scope, rule.css or "", include_self=kind == "link")
        out: list[str | None] = []
        for tag in found:
            if rule.attr:
                if kind == "image":
                    out.append(next((u for a in rule.attr if (u := urls.from_attribute(tag, a))), None))
                else:
                    out.append(css.attribute(tag, rule.attr))
            elif kind == "link":
                out.append(css.attribute(tag, ["href"]))
            elif kind == "image":
                out.append(urls.image_url(tag))
            else:
                out.append(css.text_of(tag, rule.exclude))
        return [v for v in out if v]
    data = node if (rule.source == "json" and node is not None) else source_root(rule, doc)
    if data is None:
        return []
    return [s for v in _flat(_query(rule, data)) if (s := _scalar(v, kind))]


def values(rule: Rule, doc: Document, node: Node = None, kind: Kind = "text") -> list[str]:
    """A field's values, in order: text cleaned (``drop``, ``pattern``); links and photos made absolute,
    rewritten, placeholders (``data:``) left out, without repeats."""
    out: list[str] = []
    for raw in _raw(rule, doc, node, kind):
        value = css.clean(raw, rule.drop) if kind == "text" else raw.strip()
        if rule.pattern is not None:
            match = re.search(rule.pattern, value)
            if not match:
                continue
            value = match.group(1) if match.groups() else match.group(0)
        if kind != "text":
            if not urls.usable(value):
                continue
            value = urls.rewrite(urls.absolute(value, doc.url), rule.rewrites)
        if value and value not in out:
            out.append(value)
    return out


def first(rule: Rule, doc: Document, node: Node = None, kind: Kind = "text") -> str:
    got = values(rule, doc, node, kind)
    return got[0] if got else ""


def text_pieces(rules: list[Rule], doc: Document, node: Node = None) -> str:
    """A field written in pieces (a title in an ``<h3>`` and a ``<p>``): every match of every rule,
    joined with spaces."""
    return " ".join(" ".join(values(rule, doc, node)) for rule in rules).strip()


__all__ = ["Document", "Node", "PageError", "first", "missing_source", "nodes", "source_root", "text_pieces",
           "values"]
