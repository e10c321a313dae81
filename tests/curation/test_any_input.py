"""Any input: every odd but valid file is fingerprinted like the plain photo it shows; bad files are named and
rejected in rejected.csv without stopping the run; a corrupt EXIF block is used and logged once."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import numpy as np
import pytest
from imagekit import scene
from PIL import Image

from carid.params import load_params
from curation.hashing import fingerprint_bytes, fingerprint_file
from curation.outputs import write_all
from curation.run import CuratePaths, curate
from scraper.importer import import_folder

_ORIENTATION = 0x0112


def encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def exif_rotated(img: Image.Image) -> bytes:
    """``img`` stored turned a quarter, with the EXIF orientation (6) that tells a viewer to turn it back."""
    exif = Image.Exif()
    exif[_ORIENTATION] = 6
    return encode(img.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=92, exif=exif.tobytes())


def test_exif_rotated_jpeg_hashes_as_the_upright_one() -> None:
    img = scene(3, (400, 300))
    upright = fingerprint_bytes(encode(img, "JPEG", quality=92))
    turned = fingerprint_bytes(exif_rotated(img))
    assert (turned.width, turned.height) == (400, 300)
    assert bin(upright.phash ^ turned.phash).count("1") <= 4
    sideways = fingerprint_bytes(encode(img.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=92))
    assert bin(upright.phash ^ sideways.phash).count("1") > 16  # without the turn it would not match


def _logo_rgba(colour: tuple[int, int, int]) -> Image.Image:
    arr = np.zeros((300, 400, 4), np.uint8)  # transparent black everywhere ...
    arr[80:220, 120:280] = (*colour, 255)  # ... but an opaque square
    return Image.fromarray(arr, "RGBA")


def test_transparency_is_composited_on_white() -> None:
    fp = fingerprint_bytes(encode(_logo_rgba((200, 30, 30)), "PNG"))
    assert fp.brightness > 150  # dropping alpha would give a black frame: mean luma about 40
    other = fingerprint_bytes(encode(_logo_rgba((30, 30, 200)), "PNG"))
    assert fp.colour_spread > 100 and other.colour_spread > 100
    la = np.zeros((300, 400, 2), np.uint8)
    la[80:220, 120:280] = (90, 255)
    assert fingerprint_bytes(encode(Image.fromarray(la, "LA"), "PNG")).brightness > 150
    pal = _logo_rgba((200, 30, 30)).convert("RGB").quantize(8)
    pal.info["transparency"] = pal.getpixel((0, 0))
    assert fingerprint_bytes(encode(pal, "PNG", transparency=pal.getpixel((0, 0)))).brightness > 150


@pytest.mark.parametrize("kind", ["cmyk-jpeg", "16-bit-png", "palette-png", "avif", "heic", "webp"])
def test_odd_formats_fingerprint_like_the_plain_jpeg(kind: str) -> None:
    img = scene(5, (400, 300))
    plain = fingerprint_bytes(encode(img, "JPEG", quality=92))
    if kind == "cmyk-jpeg":
        data = encode(img.convert("CMYK"), "JPEG", quality=92)
    elif kind == "16-bit-png":
        grey = (np.asarray(img.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
        data = encode(Image.fromarray(grey), "PNG")
        assert Image.open(io.BytesIO(data)).mode.startswith("I")
        plain = fingerprint_bytes(encode(img.convert("L"), "PNG"))
    elif kind == "palette-png":
        data = encode(img.quantize(256), "PNG")
    elif kind == "heic":
        data = encode(img, "HEIF", quality=90)
    else:
        data = encode(img, kind.upper(), quality=90)
    fp = fingerprint_bytes(data)
    assert (fp.width, fp.height) == (400, 300)
    assert bin(plain.phash ^ fp.phash).count("1") <= 6, kind
    assert abs(plain.brightness - fp.brightness) < 6, kind


def _photo_folder(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4):
        (src / f"ok{i}.jpg").write_bytes(encode(scene(40 + i), "JPEG", quality=90))
    (src / "png-named.jpg").write_bytes(encode(scene(50), "PNG"))  # mislabelled but an image: used
    return src


def test_bad_files_are_named_in_rejected_csv_and_the_run_goes_on(tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "proj"
    (root / "data/curation").mkdir(parents=True)
    (root / "data/curation/decisions.csv").write_text("sha256,decision,label,reason,note\n", encoding="utf-8")
    src = _photo_folder(tmp_path)
    import_folder(src, root / "data/raw/local/swift", root, "local", "swift", "swift")
    images = root / "data/raw/local/swift/images"
    manifest = root / "data/raw/local/swift/manifest.csv"
    rows = list(csv.DictReader(manifest.open(encoding="utf-8")))
    assert len(rows) == 5
    # corrupt files behind the importer's back, as a disk or a hand-copied folder does
    good = scene(60)
    data = encode(good, "JPEG", quality=90)
    garbage = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\x01\x12\x00\x03\xff\xff\xff\xff\x00\x06garbage"
    bad = {"truncated": data[: len(data) // 2], "empty": b"", "text": b"just some text, not a photo\n",
           "exif1": encode(scene(61), "JPEG", quality=90, exif=garbage),
           "exif2": encode(scene(62), "JPEG", quality=90, exif=garbage)}
    fields = list(rows[0])
    for name, body in bad.items():
        path = images / f"{name}.jpg"
        path.write_bytes(body)
        rows.append({**rows[0], "sha256": name.ljust(64, "0"), "path": path.relative_to(root).as_posix(),
                     "listing_id": name})
    with manifest.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    params = load_params(Path(__file__).resolve().parents[2] / "params.yaml").curate
    paths = CuratePaths(root, root / "data/raw", root / "data/curation/decisions.csv", root / "data/curated")
    with caplog.at_level(logging.WARNING):
        c = curate(paths, params)
    write_all(c, paths.out, root)
    rejected = {r["listing_id"]: r for r in csv.DictReader((paths.out / "rejected.csv").open(encoding="utf-8"))}
    for name, kind in (("truncated", "truncated"), ("empty", "empty"), ("text", "not-an-image")):
        assert rejected[name]["reason"] == "unreadable"
        assert rejected[name]["detail"].startswith(f"{kind}: ") and f"{name}.jpg" in rejected[name]["detail"]
        assert rejected[name]["path"].endswith(f"{name}.jpg")
    accepted = {r["path"] for r in csv.DictReader((paths.out / "accepted.csv").open(encoding="utf-8"))}
    assert any(p.endswith("exif1.jpg") for p in accepted) and any(p.endswith("exif2.jpg") for p in accepted)
    assert sum(1 for p in accepted if "png-named" in p or Path(p).stem in {r["sha256"] for r in rows[:5]}) >= 4
    exif_logs = [r for r in caplog.records if "corrupt EXIF" in r.getMessage()]
    assert len(exif_logs) == 1 and "2 photo(s)" in exif_logs[0].getMessage()


def test_fingerprint_file_names_the_kind_and_the_path(tmp_path: Path) -> None:
    png_as_jpg = tmp_path / "a.jpg"
    png_as_jpg.write_bytes(encode(scene(1), "PNG"))
    assert fingerprint_file(png_as_jpg).fingerprint is not None
    missing = fingerprint_file(tmp_path / "nope.jpg")
    assert missing.error.startswith("unreadable: ") and "nope.jpg" in missing.error
