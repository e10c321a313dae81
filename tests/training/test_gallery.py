"""The misclassified-photo gallery: escaping, relative image links, order, cap, empty page, atomic write."""

from __future__ import annotations

import os
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from training.gallery import GalleryItem, write_misclassified_gallery


class _Page(HTMLParser):
    """Collects img srcs/alts and the text of each figcaption."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.srcs: list[str] = []
        self.alts: list[str] = []
        self.captions: list[str] = []
        self.title = ""
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "img":
            self.srcs.append(a["src"] or "")
            self.alts.append(a["alt"] or "")
        elif tag == "figcaption":
            self._in = "caption"
            self.captions.append("")
        elif tag == "title":
            self._in = "title"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("figcaption", "title"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "caption":
            self.captions[-1] += data
        elif self._in == "title":
            self.title += data


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _photo(root: Path, rel: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8fake-jpeg")
    return path


def _item(path: Path, prob: float, true: str = "swift", pred: str = "wagonr", region: str = "pune") -> GalleryItem:
    return GalleryItem(image_path=path, true_label=true, predicted_label=pred, prob_predicted=prob, region=region)


def test_hostile_names_are_escaped_and_links_resolve(tmp_path: Path) -> None:
    hostile = "<img src=x onerror=alert('x')> & \"q\" #1 ?a=b 50%.jpg"
    img = _photo(tmp_path, f"data/images/{hostile}")
    out = tmp_path / "reports/eval/gallery.html"
    n = write_misclassified_gallery(out, [_item(img, 0.91234, region="<b>hyd</b>")], title="Errors <&> \"v1\"")
    assert n == 1
    text = out.read_text(encoding="utf-8")
    assert "<img src=x" not in text and "<b>hyd</b>" not in text
    page = _parse(out)
    assert page.title == 'Errors <&> "v1"'
    assert page.alts == [hostile]
    assert hostile in page.captions[0] and "<b>hyd</b>" in page.captions[0]
    src = page.srcs[0]
    assert not os.path.isabs(src) and src.startswith("../../data/images/")
    assert (out.parent / unquote(src)).resolve() == img.resolve()
    assert (out.parent / unquote(src)).is_file()


def test_caption_contents(tmp_path: Path) -> None:
    img = _photo(tmp_path, "a/swift_001.jpg")
    out = tmp_path / "gallery.html"
    write_misclassified_gallery(out, [_item(img, 0.87654, true="swift", pred="wagonr", region="delhi")], title="t")
    caption = _parse(out).captions[0]
    for part in ("swift", "wagonr", "0.877", "delhi", "swift_001.jpg"):
        assert part in caption
    assert _parse(out).srcs == ["a/swift_001.jpg"]


def test_most_confident_wrong_first_and_correct_rows_left_out(tmp_path: Path) -> None:
    imgs = {name: _photo(tmp_path, f"img/{name}.jpg") for name in ("low", "high", "mid", "right")}
    rows = [
        _item(imgs["low"], 0.51),
        _item(imgs["high"], 0.99, true="wagonr", pred="swift"),
        _item(imgs["right"], 0.999, true="swift", pred="swift"),  # correct: not in a gallery of mistakes
        _item(imgs["mid"], 0.75),
    ]
    out = tmp_path / "g.html"
    assert write_misclassified_gallery(out, rows, title="t") == 3
    assert _parse(out).srcs == ["img/high.jpg", "img/mid.jpg", "img/low.jpg"]


def test_max_items_caps_the_page(tmp_path: Path) -> None:
    rows = [_item(_photo(tmp_path, f"img/{i:02d}.jpg"), 0.5 + i / 100) for i in range(12)]
    out = tmp_path / "g.html"
    assert write_misclassified_gallery(out, rows, title="t", max_items=5) == 5
    page = _parse(out)
    assert page.srcs == [f"img/{i:02d}.jpg" for i in (11, 10, 9, 8, 7)]
    assert "Showing 5 of 12" in out.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="max_items"):
        write_misclassified_gallery(out, rows, title="t", max_items=-1)


def test_empty_gallery(tmp_path: Path) -> None:
    out = tmp_path / "new/dir/g.html"
    img = _photo(tmp_path, "x.jpg")
    assert write_misclassified_gallery(out, [], title="nothing") == 0
    assert "No misclassified photos" in out.read_text(encoding="utf-8")
    assert write_misclassified_gallery(out, [_item(img, 0.9, pred="swift")], title="all right") == 0
    assert "No misclassified photos" in out.read_text(encoding="utf-8")
    assert _parse(out).srcs == []


def test_atomic_write_leaves_no_temp_files_and_replaces(tmp_path: Path) -> None:
    out = tmp_path / "g.html"
    out.write_text("old", encoding="utf-8")
    write_misclassified_gallery(out, [], title="t")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.html"]
    assert out.stat().st_mode & 0o044  # readable by others, not mkstemp's owner-only mode


@pytest.mark.parametrize("prob", [-0.1, 1.5, float("nan")])
def test_bad_probability_rejected(tmp_path: Path, prob: float) -> None:
    with pytest.raises(ValueError, match="prob_predicted"):
        _item(tmp_path / "x.jpg", prob)
