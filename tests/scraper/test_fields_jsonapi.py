"""JSON documents and JMESPath queries (with find_key for deep trees)."""

from __future__ import annotations

import pytest

from scraper.fields.errors import PageError
from scraper.fields.jsonapi import QueryError, compile_query, parse_json, query

API = {"meta": {"page": 1}, "results": [
    {"type": "listing", "id": "A", "images": [{"small": {"url": "//h/a-cr-60.jpg"}}, {"small": {"url": "//h/b.jpg"}}]},
    {"type": "promo", "id": "promo-1", "cta": {"url": None}},
]}


def test_projections_filters_and_find_key() -> None:
    assert query("results[?type=='listing'].id", API) == ["A"]
    assert query("results[0].images[].small.url", API) == ["//h/a-cr-60.jpg", "//h/b.jpg"]
    assert query("results[1].title", API) is None
    deep = {"props": {"children": [{"x": {"listings": [1, 2]}}, {"listings": [3]}]}}
    assert query("find_key(@, 'listings')", deep) == [[1, 2], [3]]
    assert query("find_key(@, 'listings')[]", deep) == [1, 2, 3]


def test_bad_queries_are_named() -> None:
    with pytest.raises(QueryError, match=r"results\[\?"):
        compile_query("results[?")
    with pytest.raises(QueryError, match="find_key"):
        query("find_key(@, `1`)", API)


def test_api_that_answers_html_or_broken_json() -> None:
    url = "http://site.test/api/search?page=2"
    assert parse_json('{"results": []}', url, "application/json") == {"results": []}
    with pytest.raises(PageError, match=r"page=2: answered HTML"):
        parse_json("<html><body>Checking your browser</body></html>", url, "text/html; charset=utf-8")
    with pytest.raises(PageError, match=r"page=2: answered HTML"):
        parse_json("<!doctype html><p>login</p>", url, "application/json")
    with pytest.raises(PageError, match=r"page=2: answered invalid JSON"):
        parse_json('{"results": [', url, "application/json")
