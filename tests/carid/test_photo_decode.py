"""The shared decoder: EXIF orientation, transparency on white, odd modes, and bad files named with a reason."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from servekit import png_bomb, two_tone

from carid.images import UnreadablePhoto, decode_bytes, decode_to_array

RED, BLUE = (230, 20, 20), (20, 20, 230)


def _top_bottom(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h = arr.shape[0]
    return arr[: h // 4].reshape(-1, 3).mean(0), arr[-h // 4:].reshape(-1, 3).mean(0)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_exif_orientation_is_applied(fmt: str) -> None:
    """Orientation 3 (upside down): the stored top is red, so the photo as shown has blue on top."""
    plain = decode_bytes(two_tone(RED, BLUE, fmt=fmt), 32, "plain")
    turned = decode_bytes(two_tone(RED, BLUE, fmt=fmt, exif_orientation=3), 32, "turned")
    top, bottom = _top_bottom(plain)
    assert top[0] > 180 and bottom[2] > 180
    top, bottom = _top_bottom(turned)
    assert top[2] > 180 and top[0] < 60 and bottom[0] > 180


def test_orientation_6_turns_a_landscape_photo_upright() -> None:
    """Orientation 6 (turn 90 degrees clockwise to show): red on the stored left ends up on top."""
    arr = np.zeros((40, 80, 3), np.uint8)
    arr[:, :40] = RED
    arr[:, 40:] = BLUE
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=95, exif=exif.tobytes())
    top, bottom = _top_bottom(decode_bytes(buf.getvalue(), 32, "phone.jpg"))
    assert top[0] > 180 and top[2] < 60
    assert bottom[2] > 180 and bottom[0] < 60


def test_corrupt_exif_still_decodes() -> None:
    body = two_tone(RED, BLUE, exif_orientation=6)
    broken = body.replace(b"Exif\x00\x00MM\x00*", b"Exif\x00\x00XX\x00*", 1)
    assert broken != body  # the EXIF block's byte-order mark is gone: Pillow cannot parse it
    top, bottom = _top_bottom(decode_bytes(broken, 16, "x.jpg"))
    assert top[0] > 180 and bottom[2] > 180  # used as stored


def _encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_transparency_is_composited_on_white() -> None:
    """Two different logos on a transparent background must not both become black squares."""
    logo = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    logo.paste((200, 0, 0, 255), (10, 10, 30, 30))
    arr = decode_bytes(_encode(logo, "PNG"), 40, "logo.png")
    assert arr[0, 0].tolist() == [255, 255, 255]
    assert arr[20, 20].tolist() == [200, 0, 0]
    la = Image.new("LA", (20, 20), (0, 0))
    assert decode_bytes(_encode(la, "PNG"), 20, "la.png")[5, 5].tolist() == [255, 255, 255]
    pal = Image.new("P", (20, 20), 0)
    pal.putpalette([0, 0, 0, 0, 200, 0] + [0] * 762)
    pal.paste(1, (0, 0, 10, 20))
    arr = decode_bytes(_encode(pal, "PNG", transparency=0), 20, "pal.png")
    assert arr[10, 15].tolist() == [255, 255, 255] and arr[10, 3].tolist() == [0, 200, 0]


def test_cmyk_and_16_bit_photos_decode() -> None:
    cmyk = Image.new("CMYK", (30, 30), (0, 255, 255, 0))  # red in CMYK
    arr = decode_bytes(_encode(cmyk, "JPEG", quality=95), 30, "cmyk.jpg")
    assert arr[15, 15, 0] > 200 and arr[15, 15, 2] < 60
    grey16 = Image.fromarray(np.full((30, 30), 40000, np.uint16))
    arr16 = decode_bytes(_encode(grey16, "PNG"), 30, "grey16.png")
    # a 16-bit grey of 40000 out of 65535 is scaled into 8 bits, not clipped to white
    assert arr16.dtype == np.uint8 and arr16.shape == (30, 30, 3)
    assert len(set(arr16[15, 15].tolist())) == 1


@pytest.mark.parametrize(("body", "reason"), [
    (b"", "empty"),
    (b"this is a text file named photo.jpg\n", "not-an-image"),
    (two_tone(RED, BLUE, size=(400, 300))[:700], "truncated"),
    (png_bomb(), "too-many-pixels"),
])
def test_bad_bodies_name_the_file_and_the_reason(body: bytes, reason: str) -> None:
    with pytest.raises(UnreadablePhoto) as info:
        decode_bytes(body, 32, "upload-7.jpg")
    assert info.value.reason == reason
    assert "upload-7.jpg" in str(info.value)


def test_a_png_named_jpg_and_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "really-a-png.jpg"
    path.write_bytes(two_tone(RED, BLUE, fmt="PNG"))
    assert decode_to_array(path, 16).shape == (16, 16, 3)
    with pytest.raises(UnreadablePhoto) as info:
        decode_to_array(tmp_path / "gone.jpg", 16)
    assert info.value.reason == "missing" and "gone.jpg" in str(info.value)


def test_pixel_cap_is_checked_before_decoding() -> None:
    body = two_tone(RED, BLUE, size=(200, 100))
    assert decode_bytes(body, 16, "ok", max_pixels=20_000).shape == (16, 16, 3)
    with pytest.raises(UnreadablePhoto) as info:
        decode_bytes(body, 16, "big.jpg", max_pixels=19_999)
    assert info.value.reason == "too-many-pixels" and "200x100" in str(info.value)
