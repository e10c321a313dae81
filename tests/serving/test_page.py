"""The page at ``/`` in headless Chromium: pick photos, see each one's label and probability."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from servekit import Server, running_server, toy_probability, two_tone, write_params, write_toy_export

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve-page")
    with running_server(write_toy_export(root / "export"), write_params(root), root / "serve.log") as srv:
        yield srv


def test_a_picked_photo_gets_its_label_and_probability(page_server: Server, browser, tmp_path: Path) -> None:
    blue = tmp_path / "blue-top.jpg"
    blue.write_bytes(two_tone((10, 10, 220), (200, 200, 200)))
    red = tmp_path / "red-top.png"
    red.write_bytes(two_tone((220, 10, 10), (200, 200, 200), fmt="PNG"))
    browser.get(page_server.url + "/")
    WebDriverWait(browser, 10).until(lambda d: "swift / wagonr" in d.find_element(By.ID, "model").text)
    browser.find_element(By.ID, "file").send_keys(f"{blue}\n{red}")
    wait = WebDriverWait(browser, 15)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results [data-label]")) == 2)
    rows = {r.find_element(By.CLASS_NAME, "detail").text: r for r in
            browser.find_elements(By.CSS_SELECTOR, "#results [data-label]")}
    assert rows["blue-top.jpg"].get_attribute("data-label") == "wagonr"
    assert float(rows["blue-top.jpg"].get_attribute("data-probability")) == pytest.approx(
        toy_probability((10, 10, 220)), abs=0.01)
    assert rows["red-top.png"].get_attribute("data-label") == "swift"
    assert "wagonr (" in rows["blue-top.jpg"].text and "%" in rows["blue-top.jpg"].text


def test_a_refused_file_shows_the_reason(page_server: Server, browser, tmp_path: Path) -> None:
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo at all\n", encoding="utf-8")
    browser.get(page_server.url + "/")
    browser.find_element(By.ID, "file").send_keys(str(text))
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#results .error"))
    row = browser.find_element(By.CSS_SELECTOR, "#results li")
    assert "notes.jpg is not an image" in row.text
