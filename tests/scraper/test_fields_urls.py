"""Image URLs in the forms real pages use: srcset, <picture>, background images, lazy attributes, rewrites."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup, Tag

from scraper.fields.urls import Rewrite, absolute, background_url, image_url, largest, parse_srcset, rewrite


def _tag(html: str, name: str = "img") -> Tag:
    found = BeautifulSoup(html, "html.parser").find(name)
    assert isinstance(found, Tag)
    return found


def test_srcset_widths_densities_and_commas_inside_urls() -> None:
    got = parse_srcset("/a.jpg?w=160&h=90 160w, /a.jpg?w=320&h=180 320w,/a.jpg?w=640 640w")
    assert [(c.url, c.width) for c in got] == [("/a.jpg?w=160&h=90", 160), ("/a.jpg?w=320&h=180", 320),
                                               ("/a.jpg?w=640", 640)]
    cloudinary = "https://res.example.com/c_fill,w_400/car.jpg 400w, https://res.example.com/c_fill,w_900/car.jpg 900w"
    assert largest(parse_srcset(cloudinary)) == "https://res.example.com/c_fill,w_900/car.jpg"
    assert largest(parse_srcset("/s.jpg, /m.jpg 1.5x, /l.jpg 2x")) == "/l.jpg"
    assert largest(parse_srcset("")) is None


def test_largest_candidate_of_a_picture() -> None:
    html = ('<picture><source media="(min-width: 900px)" srcset="/p/1.jpg?w=320 1x">'
            '<img alt="" src="data:image/gif;base64,R0lGOD" srcset="/p/1.jpg?w=160 160w, /p/1.jpg?w=480 480w">'
            '</picture>')
    assert image_url(_tag(html)) == "/p/1.jpg?w=480"
    assert image_url(_tag(html, "picture")) == "/p/1.jpg?w=480"


def test_lazy_attributes_beat_a_placeholder_src() -> None:
    assert image_url(_tag('<img src="/static/blank.gif" data-src="/m/a.jpg">')) == "/m/a.jpg"
    assert image_url(_tag('<img src="data:image/png;base64,xx" data-lazy="/m/b.jpg">')) == "/m/b.jpg"
    assert image_url(_tag('<img data-original="/m/c.jpg">')) == "/m/c.jpg"
    assert image_url(_tag('<img src="data:image/png;base64,xx">')) is None


def test_background_image() -> None:
    div = _tag("""<div class="_1Lu5u" style="width:10px; background-image: url('//cdn.test/x/car.jpg')"></div>""",
               "div")
    assert image_url(div) == "//cdn.test/x/car.jpg"
    assert background_url('background: #fff url("/a b.jpg") no-repeat') == "/a b.jpg"
    assert background_url("color: red") is None


@pytest.mark.parametrize(("url", "base", "want"), [
    ("//cdn.test/a.jpg", "https://site.test/cars/1", "https://cdn.test/a.jpg"),
    ("/a.jpg", "http://site.test/cars/1", "http://site.test/a.jpg"),
    ("b.jpg", "http://site.test/cars/1/", "http://site.test/cars/1/b.jpg"),
    ("https://other.test/c.jpg", "http://site.test/", "https://other.test/c.jpg"),
])
def test_absolute(url: str, base: str, want: str) -> None:
    assert absolute(url, base) == want


def test_rewrite_thumbnail_to_full_size() -> None:
    rules = [Rewrite(r"(/cdn/(?:p/)?photos/[0-9a-f]{20})(?:-cr-\d+)?\.jpg(?:\?.*)?$", r"\1.jpg")]
    token = "0123456789abcdef0123"
    assert rewrite(f"http://h/cdn/photos/{token}.jpg?w=320&h=180", rules) == f"http://h/cdn/photos/{token}.jpg"
    assert rewrite(f"http://h/cdn/p/photos/{token}-cr-60.jpg", rules) == f"http://h/cdn/p/photos/{token}.jpg"
    assert rewrite("http://h/cdn/big/x.jpg", rules) == "http://h/cdn/big/x.jpg"
