import io
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from scraper.fetch import Retry
from scraper.images import Rejected, clean_partials, inspect_image, store_image


def _jpeg(size: tuple[int, int] = (200, 150)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (120, 30, 200)).save(buf, "JPEG")
    return buf.getvalue()


def _bomb() -> bytes:
    import struct
    import zlib

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 50_000, 50_000, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))


def test_good_jpeg() -> None:
    info = inspect_image(_jpeg(), "image/jpeg", 64)
    assert (info.ext, info.width, info.height) == ("jpg", 200, 150)
    assert len(info.sha256) == 64


@pytest.mark.parametrize(("body", "ctype", "error", "reason"), [
    (_jpeg()[: len(_jpeg()) // 2], "image/jpeg", Retry, "undecodable"),
    (b"<html>Checking your browser</html>", "text/html", Retry, "bad-content-type"),
    (b"not an image at all", "image/jpeg", Retry, "undecodable"),
    (_bomb(), "image/png", Rejected, "bomb"),
    (_jpeg((40, 300)), "image/jpeg", Rejected, "too-small"),
])
def test_bad_bodies(body: bytes, ctype: str, error: type, reason: str) -> None:
    with pytest.raises(error) as info:
        inspect_image(body, ctype, 64)
    assert info.value.reason == reason  # type: ignore[attr-defined]


@pytest.fixture(params=["unnamed", "rename"])
def store_mode(request, monkeypatch) -> str:
    """Both ways store_image writes: an unnamed O_TMPFILE file linked in (Linux), or temp file + rename."""
    import scraper.images

    if request.param == "unnamed" and not scraper.images._O_TMPFILE:
        pytest.skip("no O_TMPFILE here")
    if request.param == "rename":
        monkeypatch.setattr(scraper.images, "_O_TMPFILE", 0)
    return str(request.param)


@pytest.mark.skipif(sys.platform != "linux", reason="O_TMPFILE is Linux's")
def test_linux_uses_unnamed_files() -> None:
    import scraper.images

    assert scraper.images._O_TMPFILE  # else the "unnamed" cases below would only skip


def test_store_names_by_content_and_is_idempotent(tmp_path: Path, store_mode: str) -> None:
    body = _jpeg()
    info = inspect_image(body, "image/jpeg", 64)
    path = store_image(tmp_path / "images", body, info)
    assert path == tmp_path / "images" / f"{info.sha256}.jpg" and path.read_bytes() == body
    assert store_image(tmp_path / "images", body, info) == path
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == [path.name]  # no temp files left


def test_clean_partials_removes_only_temp_files(tmp_path: Path) -> None:
    body = _jpeg()
    kept = store_image(tmp_path, body, inspect_image(body, "image/jpeg", 64))
    (tmp_path / ".part-0123456789abcdef-1-2").write_bytes(body[:10])
    assert clean_partials(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == [kept.name]
    assert clean_partials(tmp_path / "missing") == 0


def _store_in_subprocess(tmp_path: Path, mode: str, on_limit: str) -> subprocess.CompletedProcess[str]:
    """store_image of a 1200x900 JPEG in a child whose file-size limit is half the body (a real write error)."""
    body = _jpeg((1200, 900))
    (tmp_path / "body.jpg").write_bytes(body)
    script = textwrap.dedent(f"""
        import resource, signal, sys
        from pathlib import Path
        import scraper.images
        from scraper.images import inspect_image, store_image
        if {mode!r} == "rename":
            scraper.images._O_TMPFILE = 0
        body = Path({str(tmp_path / "body.jpg")!r}).read_bytes()
        info = inspect_image(body, "image/jpeg", 64)
        signal.signal(signal.SIGXFSZ, signal.{on_limit})
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (len(body) // 2, resource.RLIM_INFINITY))
        try:
            store_image(Path({str(tmp_path / "images")!r}), body, info)
        except OSError as exc:
            sys.exit(f"write failed: {{exc.strerror}}")
    """)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)


def test_a_failed_write_leaves_nothing(tmp_path: Path, store_mode: str) -> None:
    """A write error (EFBIG here, as ENOSPC on a full disk) stores nothing and leaves no temp file."""
    result = _store_in_subprocess(tmp_path, store_mode, "SIG_IGN")
    assert result.returncode == 1 and "write failed" in result.stderr, result.stderr
    assert list((tmp_path / "images").iterdir()) == []


def test_a_write_killed_midway(tmp_path: Path, store_mode: str) -> None:
    """SIGXFSZ kills the writer mid-write, with no chance to clean up: the unnamed file vanishes with
    the process; the renaming fallback leaves a temp file that clean_partials (run at every resume) removes."""
    result = _store_in_subprocess(tmp_path, store_mode, "SIG_DFL")
    assert result.returncode == -signal.SIGXFSZ, result.stderr
    left = [p.name for p in (tmp_path / "images").iterdir()]
    if store_mode == "unnamed":
        assert left == []
    else:
        assert len(left) == 1 and left[0].startswith(".part-")
        assert clean_partials(tmp_path / "images") == 1
