"""JSON documents (API responses, script blobs) and JMESPath queries over them.

JMESPath rather than JSONPath: it has a written specification with a compliance suite and the same
semantics in every language it is implemented in (a query tried on jmespath.org behaves the same here),
projections and multi-select (``items[*].images[0].small.url``), and a documented way to add functions.
JSONPath's recursive descent (``$..listings``), which deep Next.js trees call for, is provided as the
function ``find_key(@, 'listings')``: every value stored under that key, at any depth, in document order.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jmespath
from jmespath import functions
from jmespath.exceptions import JMESPathError

from scraper.fields.errors import PageError


class QueryError(ValueError):
    """A JMESPath expression that does not compile; the message names it."""


def _find(value: Any, key: str, out: list[Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key:
                out.append(v)
            _find(v, key, out)
    elif isinstance(value, list):
        for v in value:
            _find(v, key, out)


class _Functions(functions.Functions):
    @functions.signature({"types": []}, {"types": ["string"]})
    def _func_find_key(self, value: Any, key: str) -> list[Any]:
        out: list[Any] = []
        _find(value, key, out)
        return out


_OPTIONS = jmespath.Options(custom_functions=_Functions())


@functools.lru_cache(maxsize=512)
def compile_query(path: str) -> Any:
    try:
        return jmespath.compile(path)
    except JMESPathError as exc:
        raise QueryError(f"bad JMESPath {path!r}: {' '.join(str(exc).split())}") from None


def query(path: str, data: Any) -> Any:
    """``path`` applied to ``data`` (``@`` for the whole document); None where it leads nowhere."""
    try:
        return compile_query(path).search(data, options=_OPTIONS)
    except JMESPathError as exc:  # a function called with the wrong types, at search time
        raise QueryError(f"JMESPath {path!r}: {' '.join(str(exc).split())}") from None


def parse_json(body: str, url: str, content_type: str = "") -> Any:
    """An API response's JSON; an HTML page (a login wall, a bot check, an error page) is named as such."""
    head = body.lstrip()[:1]
    if "html" in content_type.lower() or head == "<":
        raise PageError(url, f"answered HTML ({content_type or 'no content type'}), not JSON")
    try:
        return json.loads(body)
    except ValueError as exc:
        raise PageError(url, f"answered invalid JSON ({exc})") from None
