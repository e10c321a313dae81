"""Make the README's pictures: a rendered GaadiBazaar region page, a contact sheet of photos and, from a finished
`dvc repro`, the top of a misclassified-photos gallery and the prediction service's page with a few demo photos.

    .venv/bin/python docs/make_pictures.py [--gallery data/eval/residual/misclassified-holdout.html]
    .venv/bin/python docs/make_pictures.py --serve-page data/export
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from carid.params import DEFAULT_MARKETPLACE
from marketplace.inventory import Inventory
from marketplace.render import render_image
from marketplace.server import running_marketplace
from marketplace.store import PhotoStore
from scraper.browser import chromium

DOCS = Path(__file__).parent


def screenshot(out: Path) -> None:
    params = DEFAULT_MARKETPLACE.model_copy(update={"listings_per_region": 40, "hyderabad_listings": 5})
    with tempfile.TemporaryDirectory() as tmp, running_marketplace(params, store=PhotoStore(Path(tmp))) as urls, \
            chromium(loopback_only=True) as driver:
        driver.set_window_size(1200, 900)
        driver.get(urls.main + "/used-cars/delhi")
        WebDriverWait(driver, 20).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".listing-card")) >= 12)
        loaded = "return [...document.querySelectorAll('.card-thumb')].slice(0, 8).every(i => i.naturalWidth > 0)"
        WebDriverWait(driver, 20).until(lambda d: d.execute_script(loaded))
        driver.save_screenshot(str(out))


def contact_sheet(out: Path) -> None:
    inv = Inventory(DEFAULT_MARKETPLACE)
    picks: dict[str, list] = {"Swift": [], "WagonR": [], "junk": [], "Hyderabad": []}
    for lst in inv.listings:
        for p in lst.photos:
            if p.variant != "original":
                continue
            key = ("Hyderabad" if lst.site == "hyderabad" else "junk" if p.junk
                   else {"swift": "Swift", "wagonr": "WagonR"}.get(p.model, ""))
            if key and len(picks[key]) < 6 and (key != "junk" or p.junk not in {q.junk for q in picks["junk"]}):
                picks[key].append(p)
    tw, th, pad = 200, 150, 22
    sheet = Image.new("RGB", (6 * tw, 4 * (th + pad)), "white")
    draw = ImageDraw.Draw(sheet)
    for row, (name, specs) in enumerate(picks.items()):
        for col, spec in enumerate(specs):
            img = render_image(spec)
            img.thumbnail((tw - 4, th - 4))
            x, y = col * tw, row * (th + pad)
            sheet.paste(img, (x + 2, y + pad))
            label = spec.junk or ("swift" if spec.model == "swift" else spec.model)
            draw.text((x + 4, y + 4), f"{name}: {label}", fill=(0, 0, 0))
    sheet.save(out, optimize=True)


def gallery(page: Path, out: Path) -> None:
    with chromium(loopback_only=True) as driver:
        driver.set_window_size(1200, 700)
        driver.get(page.resolve().as_uri())
        loaded = "return [...document.images].slice(0, 8).every(i => i.complete && i.naturalWidth > 0)"
        WebDriverWait(driver, 20).until(lambda d: d.execute_script(loaded))
        driver.save_screenshot(str(out))


def serve_page(export: Path, out: Path) -> None:
    """``carid serve`` on the exported model, a demo Swift and a demo WagonR picked on its page."""
    import socket
    import subprocess
    import sys
    import time

    import requests

    inv = Inventory(DEFAULT_MARKETPLACE)
    wanted = {"swift": None, "wagonr": None}
    for lst in inv.listings:
        for p in lst.photos:
            if p.variant == "original" and not p.junk and p.model in wanted and wanted[p.model] is None:
                wanted[p.model] = p
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for name, photo in wanted.items():
            path = Path(tmp) / f"demo-{name}.jpg"
            render_image(photo).save(path, quality=90)
            files.append(path)
        proc = subprocess.Popen([sys.executable, "-m", "carid.cli", "serve", "--model", str(export), "--port",
                                 str(port)], stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}/"
            for _ in range(300):
                try:
                    if requests.get(url + "health", timeout=1).status_code == 200:
                        break
                except requests.ConnectionError:
                    time.sleep(0.1)
            with chromium(loopback_only=True) as driver:
                driver.set_window_size(900, 700)
                driver.get(url)
                driver.find_element(By.ID, "file").send_keys("\n".join(map(str, files)))
                WebDriverWait(driver, 20).until(
                    lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results [data-label]")) == len(files))
                driver.save_screenshot(str(out))
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--gallery", type=Path, help="a misclassified-*.html page written by `carid train evaluate`")
    ap.add_argument("--serve-page", type=Path, help="an export folder (data/export) to show in `carid serve`'s page")
    args = ap.parse_args()
    if args.serve_page is not None:
        serve_page(args.serve_page, DOCS / "serve-page.png")
        print("wrote", DOCS / "serve-page.png")
    elif args.gallery is not None:
        gallery(args.gallery, DOCS / "misclassified.png")
        print("wrote", DOCS / "misclassified.png")
    else:
        screenshot(DOCS / "listing-page.png")
        contact_sheet(DOCS / "sample-photos.png")
        print("wrote", DOCS / "listing-page.png", DOCS / "sample-photos.png")
