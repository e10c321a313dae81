"""Make the README's pictures: a rendered GaadiBazaar region page, a contact sheet of photos and, from a finished
`dvc repro`, the top of a misclassified-photos gallery.

    .venv/bin/python docs/make_pictures.py [--gallery data/eval/residual/misclassified-holdout.html]
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


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--gallery", type=Path, help="a misclassified-*.html page written by `carid train evaluate`")
    args = ap.parse_args()
    if args.gallery is not None:
        gallery(args.gallery, DOCS / "misclassified.png")
        print("wrote", DOCS / "misclassified.png")
    else:
        screenshot(DOCS / "listing-page.png")
        contact_sheet(DOCS / "sample-photos.png")
        print("wrote", DOCS / "listing-page.png", DOCS / "sample-photos.png")
