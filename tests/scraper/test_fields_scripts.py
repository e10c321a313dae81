"""Data in scripts: JSON-LD (extruct), a JSON script blob, JavaScript object literals (chompjs), Next.js flight
data; each broken form is named with the URL."""

from __future__ import annotations

import json

import pytest

from scraper.fields.css import soup
from scraper.fields.errors import PageError
from scraper.fields.jsobject import js_object, next_flight
from scraper.fields.jsonld import jsonld_items
from scraper.fields.scriptjson import script_json

URL = "https://site.test/used-cars/pune"
ITEM_LIST = {"@context": "https://schema.org", "@type": "ItemList", "itemListElement": [
    {"@type": "ListItem", "position": 1, "item": {"@type": "Car", "name": "2021 Maruti Swift VXI",
                                                   "url": "/cars/1", "image": ["//cdn.test/1.jpg"]}}]}


def test_jsonld_items_from_every_block_with_comments_tolerated() -> None:
    html = (f'<script type="application/ld+json">{json.dumps(ITEM_LIST)}</script>'
            '<script type="application/ld+json">\n// breadcrumbs\n[{"@type": "BreadcrumbList"}, '
            '{"@type": "Organization", "name": "X"}]</script>')
    items = jsonld_items(html, URL)
    assert [i["@type"] for i in items] == ["ItemList", "BreadcrumbList", "Organization"]
    assert items[0]["itemListElement"][0]["item"]["name"] == "2021 Maruti Swift VXI"
    assert jsonld_items("<p>no data</p>", URL) == []


def test_broken_jsonld_names_the_url() -> None:
    with pytest.raises(PageError, match=r"site\.test/used-cars/pune.*JSON-LD"):
        jsonld_items('<script type="application/ld+json">{"@type": "Car", "name": </script>', URL)


def test_next_data_script() -> None:
    data = {"props": {"pageProps": {"search": {"results": [{"id": "A1"}]}}}}
    html = f'<div id="__next"></div><script id="__NEXT_DATA__" type="application/json">{json.dumps(data)}</script>'
    assert script_json(soup(html), "#__NEXT_DATA__", URL) == data
    assert script_json(soup("<p></p>"), "#__NEXT_DATA__", URL) is None
    with pytest.raises(PageError, match=r"site\.test.*__NEXT_DATA__.*not valid JSON"):
        script_json(soup('<script id="__NEXT_DATA__">{"props": {</script>'), "#__NEXT_DATA__", URL)


def test_preloaded_state_javascript_literal() -> None:
    html = ("<script>var analytics = {a: 1};</script><script>window.__PRELOADED_STATE__ = "
            "{listing:{id:'PN1',sold:!1,featured:!0,reserved:void 0,gone:undefined,"
            "gallery:[{src:'//cdn.test/1.jpg',w:400,},{src:\"//cdn.test/2.jpg\",w:400}],},};"
            "window.other = 1;</script>")
    state = js_object(soup(html), "window.__PRELOADED_STATE__", URL)
    assert state == {"listing": {"id": "PN1", "sold": False, "featured": True, "reserved": None, "gone": None,
                                 "gallery": [{"src": "//cdn.test/1.jpg", "w": 400}, {"src": "//cdn.test/2.jpg",
                                                                                       "w": 400}]}}
    assert js_object(soup(html), "__PRELOADED_STATE__", URL) == state  # with or without window.
    assert js_object(soup(html), "__INITIAL_STATE__", URL) is None
    assert js_object(soup("<script>if (window.__PRELOADED_STATE__ == null) {}</script>"),
                     "__PRELOADED_STATE__", URL) is None  # a comparison is no assignment


def test_state_as_json_parse_string() -> None:
    inner = json.dumps({"items": [{"id": 7}]})
    html = f"<script>window.__INITIAL_STATE__ = JSON.parse({json.dumps(inner)});</script>"
    assert js_object(soup(html), "__INITIAL_STATE__", URL) == {"items": [{"id": 7}]}


def test_unreadable_object_names_the_url() -> None:
    with pytest.raises(PageError, match=r"site\.test.*__PRELOADED_STATE__ is not a JavaScript object"):
        js_object(soup("<script>window.__PRELOADED_STATE__ = {listing: {id: 'x', </script>"),
                  "__PRELOADED_STATE__", URL)


def test_next_flight_rows() -> None:
    row = json.dumps(["$", "div", None, {"listings": [{"id": "A1", "images": ["/a.jpg"]}]}])
    payload = f'0:I["chunks/app.js"]\n1:{row}\n2:T1a,some text\n'
    half = len(payload) // 2
    html = ("<script>(self.__next_f=self.__next_f||[]).push([0])</script>"
            f"<script>self.__next_f.push([1,{json.dumps(payload[:half])}])</script>"
            f"<script>self.__next_f.push([1,{json.dumps(payload[half:])}])</script>")
    rows = next_flight(soup(html), URL)
    assert rows == [json.loads(row)]
    assert next_flight(soup("<script>var a = 1;</script>"), URL) is None
