"""The review page in a real headless Chromium: keyboard decisions land in decisions.csv at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reviewkit import HEADER, curated_project, decisions, review_rows, serving, wait_for
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from curation.review_app.server import Served
from scraper.browser import chromium

pytestmark = pytest.mark.browser
HAND = "9" * 64  # a row a person typed, for a photo not in the data: kept through every write


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return curated_project(tmp_path_factory.mktemp("review-page"))


@pytest.fixture
def server(root: Path, tmp_path: Path) -> Iterator[Served]:
    (root / "data/curation/decisions.csv").write_text(HEADER + f"{HAND},reject,,scenery,typed by hand\n",
                                                      encoding="utf-8")
    with serving(root, tmp_path / "thumbs") as served:
        yield served


def open_page(driver: Any, url: str) -> None:
    driver.get(url)
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.body.dataset.ready === '1'"))


def press(driver: Any, *keys: str) -> None:
    body = driver.find_element(By.TAG_NAME, "body")
    for key in keys:
        body.send_keys(key)


def page(driver: Any, expr: str) -> Any:
    return driver.execute_script(f"return {expr}")


def tile_classes(driver: Any) -> list[str]:
    return list(page(driver, "[...document.querySelectorAll('#grid .tile')].map(t => t.className)"))


def settled(driver: Any) -> None:
    WebDriverWait(driver, 10).until(lambda d: page(d, "window.caridReview.pending") == 0)


def test_keyboard_decisions_undo_and_reload(browser: Any, root: Path, server: Served) -> None:
    shas = [r["sha256"] for r in review_rows(root)]
    open_page(browser, server.url)
    assert page(browser, "document.getElementById('total').textContent") == str(len(set(shas)))
    press(browser, "a", "r", "2", "w", "s")
    wait_for(lambda: len(decisions(root)) == 5, what="four decisions in decisions.csv")
    got = decisions(root)
    assert (got[shas[0]]["decision"], got[shas[0]]["label"]) == ("accept", "")
    assert (got[shas[1]]["decision"], got[shas[1]]["reason"]) == ("reject", "close-up")
    assert (got[shas[2]]["decision"], got[shas[2]]["label"]) == ("relabel", "wagonr")
    assert (got[shas[3]]["decision"], got[shas[3]]["label"]) == ("relabel", "swift")
    assert got[HAND]["note"] == "typed by hand"
    settled(browser)
    assert page(browser, "document.getElementById('reviewed').textContent") == "4"
    assert page(browser, "document.getElementById('since').textContent") == "4"

    press(browser, "u")
    wait_for(lambda: shas[3] not in decisions(root), what="the first undo in decisions.csv")
    press(browser, "u")
    wait_for(lambda: shas[2] not in decisions(root), what="the second undo in decisions.csv")
    settled(browser)
    assert set(decisions(root)) == {shas[0], shas[1], HAND}
    assert page(browser, "document.getElementById('since').textContent") == "2"
    assert page(browser, "window.caridReview.sel") == 2  # undo goes back to the photo it undid
    WebDriverWait(browser, 5).until(lambda d: "rank=3" in page(d, "location.hash"))  # the place, for a reload

    browser.refresh()
    WebDriverWait(browser, 20).until(lambda d: page(d, "document.body.dataset.ready === '1'"))
    classes = tile_classes(browser)
    assert "d-accept" in classes[0] and "d-reject" in classes[1]
    assert not any("d-" in c for c in classes[2:])
    assert page(browser, "document.getElementById('reviewed').textContent") == "2"
    assert page(browser, "document.getElementById('since').textContent") == "0"
    assert page(browser, "window.caridReview.sel") == 2 and "sel" in classes[2]  # the place is kept too
    assert "rejected: close-up" in browser.find_elements(By.CSS_SELECTOR, "#grid .tile")[1].text


def test_arrows_filter_and_reject_reasons(browser: Any, root: Path, server: Served) -> None:
    rows = review_rows(root)
    open_page(browser, server.url)
    press(browser, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_LEFT)
    assert page(browser, "window.caridReview.sel") == 1
    top = page(browser, "document.querySelector('.tile.sel').getBoundingClientRect().top")
    press(browser, Keys.ARROW_DOWN)
    below = page(browser, "document.querySelector('.tile.sel').getBoundingClientRect().top")
    assert below > top + 50 and page(browser, "window.caridReview.sel") > 1
    press(browser, Keys.ARROW_UP)
    assert page(browser, "window.caridReview.sel") == 1

    press(browser, "/")
    browser.switch_to.active_element.send_keys("label:wagonr", Keys.ENTER)
    wagonr = [r for r in rows if r["label"] == "wagonr"]
    shown = browser.find_elements(By.CSS_SELECTOR, "#grid .tile .lab")
    assert len(shown) == len(wagonr) and all(t.text.startswith("wagonr") for t in shown)
    press(browser, "r", "5")
    wait_for(lambda: wagonr[0]["sha256"] in decisions(root), what="the filtered reject")
    assert decisions(root)[wagonr[0]["sha256"]]["reason"] == "not-a-car"

    press(browser, Keys.ESCAPE)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#grid .tile")) == len(rows)
    clusters = [c for c in {r["cluster_id"] for r in rows} if sum(r["cluster_id"] == c for r in rows) > 1]
    assert clusters, "the project plants a re-encoded copy"
    press(browser, "/")
    browser.switch_to.active_element.send_keys(f"cluster:{clusters[0]}", Keys.ENTER)
    boxed = browser.find_elements(By.CSS_SELECTOR, "#grid .cluster .tile")
    assert len(boxed) == sum(r["cluster_id"] == clusters[0] for r in rows) == len(
        browser.find_elements(By.CSS_SELECTOR, "#grid .tile"))
    press(browser, "/")
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    press(browser, "r", Keys.ESCAPE, "u")  # a cancelled reject writes nothing; u takes back the not-a-car
    wait_for(lambda: wagonr[0]["sha256"] not in decisions(root), what="the undo")
    assert set(decisions(root)) == {HAND}


def test_two_clients_and_an_editor_lose_nothing(browser: Any, root: Path, server: Served) -> None:
    rows = review_rows(root)
    swift = [r["sha256"] for r in rows if r["label"] == "swift"][:5]
    wagonr = [r["sha256"] for r in rows if r["label"] == "wagonr"][:5]
    with chromium(loopback_only=True) as second:
        open_page(browser, server.url + "#filter=label%3Aswift")
        open_page(second, server.url + "#filter=label%3Awagonr")
        errors: list[BaseException] = []

        def review(driver: Any, keys: list[str]) -> None:
            try:
                press(driver, *keys)
                settled(driver)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=review, args=(browser, ["a"] * 5)),
                   threading.Thread(target=review, args=(second, ["r", "1"] * 5))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors
        got = decisions(root)
        assert all(got[s]["decision"] == "accept" for s in swift)
        assert all(got[s]["decision"] == "reject" and got[s]["reason"] == "interior" for s in wagonr)

        # an editor saves the file with a row of its own; the page keeps it and shows it
        path = root / "data/curation/decisions.csv"
        other = [r["sha256"] for r in rows if r["label"] == "wagonr"][5]  # no page selects it
        path.write_text(path.read_text(encoding="utf-8") + f"{other},reject,,document,from the editor\n",
                        encoding="utf-8")
        press(browser, "a")
        settled(browser)
        got = decisions(root)
        assert got[other]["note"] == "from the editor" and len(got) == 13  # 10 + the editor's + this one + HAND
        for driver in (browser, second):  # each page picks up the other's decisions and the editor's
            WebDriverWait(driver, 10).until(
                lambda d: page(d, "document.getElementById('reviewed').textContent") == "12",
                message=page(driver, "[document.getElementById('reviewed').textContent, window.caridReview.etag, "
                                     "document.getElementById('status').textContent]"))
