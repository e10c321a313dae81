"""The review page's server over real HTTP: photos by sha256 only, the token, decisions written at once."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from curatekit import rows
from reviewkit import HEADER, curated_project, decisions, review_rows, serving

from curation.review_app.data import load_review
from curation.review_app.server import Served
from curation.review_app.thumbs import ThumbCache


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return curated_project(tmp_path_factory.mktemp("review"))


@pytest.fixture
def server(root: Path, tmp_path: Path) -> Iterator[Served]:
    (root / "data/curation/decisions.csv").write_text(HEADER, encoding="utf-8")
    with serving(root, tmp_path / "thumbs") as served:
        yield served


def _raw_get(host: str, port: int, path: str, source: str | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """A GET whose path goes out byte for byte (no client-side normalising of ``..``)."""
    conn = http.client.HTTPConnection(host, port, timeout=10, source_address=(source, 0) if source else None)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_photos_only_by_sha256_and_traversal_is_404(root: Path, server: Served, tmp_path: Path) -> None:
    sha = review_rows(root)[0]["sha256"]
    photo = requests.get(f"{server.url}photo/{sha}", timeout=10)
    assert photo.status_code == 200 and hashlib.sha256(photo.content).hexdigest() == sha
    thumb = requests.get(f"{server.url}thumb/{sha}", timeout=10)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg" and len(thumb.content) > 500
    cached = ThumbCache(tmp_path / "thumbs").path_for(sha)
    assert cached.read_bytes() == thumb.content  # built once, then served from the cache
    manifest_path = review_rows(root)[0]["path"]
    attempts = [
        "/photo/../../params.yaml", "/thumb/..%2F..%2Fparams.yaml", "/photo/%2e%2e/%2e%2e/params.yaml",
        "/static/../app.py", "/static/..%2fapp.py", "/static//etc/passwd", "/photo//etc/passwd", "/etc/passwd",
        f"/photo/{root}/params.yaml", f"/{manifest_path}", f"/photo/{manifest_path}", f"/thumb/{sha[:40]}",
        f"/photo/{sha.upper()}", f"/photo/{'0' * 64}", "/static/review.js/../../data.py", "/data/raw",
    ]
    for path in attempts:
        status, body = _raw_get(server.host, server.port, path)
        assert status == 404, (path, status)
        assert b"sha256" not in body and b"curate" not in body
    assert _raw_get(server.host, server.port, "/static/review.js")[0] == 200


def test_a_photo_changed_on_disk_is_not_served(tmp_path: Path) -> None:
    root = curated_project(tmp_path)
    rows = review_rows(root)
    with serving(root, tmp_path / "thumbs") as served:
        victim = root / rows[1]["path"]
        victim.write_bytes(victim.read_bytes()[:-10] + b"0123456789")  # same name, other bytes
        assert requests.get(f"{served.url}photo/{rows[1]['sha256']}", timeout=10).status_code == 404
        assert requests.get(f"{served.url}thumb/{rows[1]['sha256']}", timeout=10).status_code == 404
        assert requests.get(f"{served.url}photo/{rows[0]['sha256']}", timeout=10).status_code == 200


def test_no_route_deletes_or_writes_photos(root: Path, server: Served) -> None:
    sha = review_rows(root)[0]["sha256"]
    files_before = sorted(p for p in (root / "data/raw").rglob("*") if p.is_file())
    for method in ("DELETE", "PUT", "PATCH", "POST"):
        for path in (f"photo/{sha}", f"thumb/{sha}", "api/decisions", "api/review", ""):
            r = requests.request(method, server.url + path, json={}, timeout=10)
            assert r.status_code in (404, 405), (method, path, r.status_code)
    assert requests.delete(f"{server.url}api/decide", timeout=10).status_code == 405
    assert sorted(p for p in (root / "data/raw").rglob("*") if p.is_file()) == files_before


def test_decisions_are_written_at_once_and_validated(root: Path, server: Served) -> None:
    shas = [r["sha256"] for r in review_rows(root)]
    hand = "9" * 64
    path = root / "data/curation/decisions.csv"
    path.write_text(HEADER + f"{hand},reject,,scenery,typed by hand\n", encoding="utf-8")
    url = server.url + "api/decide"
    ok = requests.post(url, json={"sha256": shas[0], "decision": {"decision": "reject", "reason": "interior\n=1+1"}},
                       timeout=10)
    assert ok.status_code == 200, ok.text
    got = decisions(root)
    assert got[shas[0]]["reason"] == "interior =1+1" and got[hand]["note"] == "typed by hand"
    for body, status in [
        ({"sha256": shas[1], "decision": {"decision": "maybe"}}, 400),
        ({"sha256": shas[1], "decision": {"decision": "relabel", "label": "alto"}}, 400),
        ({"sha256": shas[1], "decision": {"decision": "relabel"}}, 400),
        ({"sha256": "f" * 64, "decision": {"decision": "accept"}}, 404),
        ({"sha256": "../../params.yaml", "decision": {"decision": "accept"}}, 404),
        ({"sha256": shas[1], "decision": None}, 400),  # clearing needs what the page last saw
        ({"sha256": shas[0], "decision": None, "expect": {"decision": "accept"}}, 409),  # it is a reject
    ]:
        r = requests.post(url, json=body, timeout=10)
        assert r.status_code == status, (body, r.status_code, r.text)
    assert set(decisions(root)) == {shas[0], hand}
    state = requests.get(server.url + "api/decisions", timeout=10)
    assert state.json()["decisions"][shas[0]]["decision"] == "reject"
    again = requests.get(server.url + "api/decisions", headers={"If-None-Match": state.headers["ETag"]}, timeout=10)
    assert again.status_code == 304
    path.write_text(HEADER + f"{shas[2]},accept,,,\n", encoding="utf-8")  # an editor rewrites the file
    fresh = requests.get(server.url + "api/decisions", headers={"If-None-Match": state.headers["ETag"]}, timeout=10)
    assert fresh.status_code == 200 and list(fresh.json()["decisions"]) == [shas[2]]


def test_writes_only_from_the_page_itself(root: Path, server: Served) -> None:
    sha = review_rows(root)[0]["sha256"]
    body = json.dumps({"sha256": sha, "decision": {"decision": "accept"}})
    form = requests.post(server.url + "api/decide", data=body, headers={"Content-Type": "text/plain"}, timeout=10)
    assert form.status_code == 403  # a cross-site form or no-preflight fetch
    other = requests.post(server.url + "api/decide", data=body, timeout=10,
                          headers={"Content-Type": "application/json", "Origin": "http://evil.example"})
    assert other.status_code == 403
    rebound = requests.get(server.url + "api/review", headers={"Host": f"evil.example:{server.port}"}, timeout=10)
    assert rebound.status_code == 403  # DNS rebinding: a page whose own name now points at 127.0.0.1
    assert decisions(root) == {}


def _second_loopback_works() -> bool:
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.2", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _second_loopback_works(), reason="no 127.0.0.2 on this machine")
def test_with_host_other_clients_need_the_token(root: Path, tmp_path: Path) -> None:
    """Bound to 127.0.0.2 (what --host does), a client connecting from 127.0.0.2 is not 127.0.0.1: token needed."""
    (root / "data/curation/decisions.csv").write_text(HEADER, encoding="utf-8")
    token = "t0k3n-for-this-test"
    with serving(root, tmp_path / "thumbs", host="127.0.0.2", token=token) as served:
        assert served.url.endswith(f"?token={token}")
        def remote(path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
            return _raw_get("127.0.0.2", served.port, path, source="127.0.0.2", headers=headers)

        assert remote("/")[0] == 403
        assert remote("/api/review")[0] == 403
        assert remote("/?token=wrong")[0] == 403
        conn = http.client.HTTPConnection("127.0.0.2", served.port, timeout=10, source_address=("127.0.0.2", 0))
        conn.request("GET", f"/?token={token}")
        resp = conn.getresponse()
        cookie = resp.getheader("Set-Cookie", "")
        assert resp.status == 200 and b"carid review" in resp.read() and "HttpOnly" in cookie
        conn.close()
        with_cookie = {"Cookie": cookie.split(";")[0]}
        status, body = remote("/api/review", headers=with_cookie)
        assert status == 200 and json.loads(body)["total"] == len({r["sha256"] for r in review_rows(root)})
        # the same machine's own browser, by a loopback name, needs no token
        assert _raw_get("127.0.0.2", served.port, "/", headers={"Host": f"127.0.0.1:{served.port}"})[0] == 200


def test_review_data_follows_review_order_and_shows_an_audit_when_there_is_one(root: Path, tmp_path: Path) -> None:
    rows = review_rows(root)
    paths = (root, root / "data/raw", root / "data/curated/review.csv")
    plain = load_review(*paths, tmp_path / "audit.csv")
    assert [i.sha256 for i in plain.items] == [r["sha256"] for r in rows] and not plain.audit
    assert plain.items[0].rank == 1 and all(i.suggestion == "" for i in plain.items)
    audit = tmp_path / "audit.csv"
    audit.write_text("sha256,label,suspicion,suggestion,suggestion_reason\n"
                     f"{rows[2]['sha256']},swift,0.9,reject: not-a-car,ood 0.97\n", encoding="utf-8")
    with_audit = load_review(*paths, audit)
    assert with_audit.audit
    assert (with_audit.items[2].suggestion, with_audit.items[2].suggestion_reason) == ("reject: not-a-car", "ood 0.97")
    assert with_audit.items[1].suggestion == ""


def test_the_page_tells_whether_it_missed_someone_elses_write(root: Path, server: Served) -> None:
    shas = [r["sha256"] for r in review_rows(root)]
    url = server.url + "api/decide"
    seen = requests.get(server.url + "api/decisions", timeout=10).headers["ETag"]
    first = requests.post(url, json={"sha256": shas[0], "decision": {"decision": "accept"}, "seen": seen}, timeout=10)
    assert first.json()["in_sync"] is True
    (root / "data/curation/decisions.csv").write_text(HEADER + f"{shas[1]},accept,,,\n{shas[0]},accept,,,\n",
                                                      encoding="utf-8")
    second = requests.post(url, json={"sha256": shas[2], "decision": {"decision": "accept"},
                                      "seen": f'"{first.json()["version"]}"'}, timeout=10)
    assert second.json()["in_sync"] is False  # the page must fetch the file again: shas[1] is new to it
    assert set(decisions(root)) == set(shas[:3])


def test_cli_serves_until_ctrl_c_and_curate_applies_the_decisions(tmp_path: Path) -> None:
    root = curated_project(tmp_path)
    sha = review_rows(root)[0]["sha256"]
    env = {**os.environ, "CARID_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "carid.cli", "curate", "review", "--serve", "--port", "0"],
                            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while proc.stdout is not None:
            line = proc.stdout.readline()
            lines.append(line)
            if not line or line.startswith("review page: "):
                break
        assert lines[-1].startswith("review page: http://127.0.0.1:"), (lines, proc.stderr and proc.stderr.read())
        assert "newer than every manifest" in lines[0]  # review.csv was fresh: served without curating again
        url = lines[-1].split()[2]
        r = requests.post(url + "api/decide", json={"sha256": sha, "decision": {"decision": "reject",
                                                                                  "reason": "interior"}}, timeout=10)
        assert r.status_code == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "review page stopped" in out and "Traceback" not in err
    assert decisions(root)[sha]["reason"] == "interior"
    assert not list((root / "data/curation").glob("*.part"))
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)
    done = subprocess.run([sys.executable, "-m", "carid.cli", "curate", "run"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rejected = {r["sha256"]: r for r in rows(root / "data/curated/rejected.csv")}
    assert rejected[sha]["reason"] == "manual" and rejected[sha]["detail"] == "interior"


def test_cli_with_host_prints_a_token_url_and_bad_hosts_fail_in_one_line(tmp_path: Path) -> None:
    root = curated_project(tmp_path)
    bad = subprocess.run([sys.executable, "-m", "carid.cli", "curate", "review", "--serve", "--host", "my-laptop"],
                         cwd=root, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "--host must be an IP address" in bad.stderr and "Traceback" not in bad.stderr
    if not _second_loopback_works():
        return
    proc = subprocess.Popen([sys.executable, "-m", "carid.cli", "curate", "review", "--serve", "--host", "127.0.0.2",
                             "--port", "0"], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "CARID_CACHE_DIR": str(tmp_path / "cache")})
    try:
        line = ""
        while proc.stdout is not None and not line.startswith("review page: "):
            line = proc.stdout.readline()
            if not line:
                break
        url = line.split()[2]
        token = url.split("?token=")[1]
        assert url.startswith("http://127.0.0.2:") and len(token) >= 20
        port = int(url.split(":")[2].split("/")[0])
        assert _raw_get("127.0.0.2", port, "/api/review", source="127.0.0.2")[0] == 403
        assert _raw_get("127.0.0.2", port, f"/api/review?token={token}", source="127.0.0.2")[0] == 200
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_broken_decisions_file_is_reported_and_left_alone(root: Path, server: Served) -> None:
    shas = [r["sha256"] for r in review_rows(root)]
    path = root / "data/curation/decisions.csv"
    for text, words in [(HEADER.encode() + f"{shas[0]},reject,,Fahrzeuginnenraum \xe4,\n".encode("cp1252"),
                         "not UTF-8"),
                        (HEADER.encode() + f"{shas[0]},reject,,,\n{shas[0]},accept,,,\n".encode(), "row 3")]:
        path.write_bytes(text)
        r = requests.post(server.url + "api/decide", json={"sha256": shas[1], "decision": {"decision": "accept"}},
                          timeout=10)
        assert r.status_code == 409 and words in r.json()["error"]
        assert path.read_bytes() == text
    state = requests.get(server.url + "api/decisions", timeout=10).json()
    assert state["decisions"] is None and "row 3" in state["error"]


def test_manifest_rows_that_point_outside_data_raw_are_never_served(tmp_path: Path) -> None:
    root = curated_project(tmp_path)
    secret = root / "secret.txt"
    secret.write_bytes(b"not a photo, not for the page")
    sha = hashlib.sha256(secret.read_bytes()).hexdigest()
    params_sha = hashlib.sha256((root / "params.yaml").read_bytes()).hexdigest()
    shard = root / "data/raw/local/swift"
    (shard / "images/link.jpg").symlink_to(secret)
    manifest = shard / "manifest.csv"
    header = manifest.read_text(encoding="utf-8").splitlines()[0].split(",")
    extra = []
    for digest, path in ((sha, "data/raw/local/swift/images/link.jpg"), (params_sha, "data/raw/../../params.yaml"),
                         (params_sha, str(root / "params.yaml"))):
        row = dict.fromkeys(header, "")
        row.update(sha256=digest, path=path, site="local", region="swift", listing_id="x", label="swift")
        extra.append(",".join(row[h] for h in header))
    manifest.write_text(manifest.read_text(encoding="utf-8") + "\n".join(extra) + "\n", encoding="utf-8")
    with serving(root, tmp_path / "thumbs") as served:
        for digest in (sha, params_sha):
            for kind in ("photo", "thumb"):
                assert requests.get(f"{served.url}{kind}/{digest}", timeout=10).status_code == 404, (kind, digest)
        ok = review_rows(root)[0]["sha256"]
        assert requests.get(f"{served.url}photo/{ok}", timeout=10).status_code == 200


def test_thumbnails_are_upright_and_on_white(tmp_path: Path) -> None:
    """A phone photo stored upside down (EXIF orientation 3) and a transparent logo, as every stage sees them."""
    import hashlib
    import io

    import numpy as np
    from PIL import Image
    from servekit import two_tone

    turned = tmp_path / "turned.jpg"
    turned.write_bytes(two_tone((220, 10, 10), (10, 10, 220), size=(400, 300), exif_orientation=3))
    logo = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    logo.paste((10, 10, 220, 255), (150, 100, 250, 200))
    buf = io.BytesIO()
    logo.save(buf, "PNG")
    (tmp_path / "logo.png").write_bytes(buf.getvalue())
    cache = ThumbCache(tmp_path / "thumbs")
    shown = []
    for path in (turned, tmp_path / "logo.png"):
        data = cache.get(hashlib.sha256(path.read_bytes()).hexdigest(), path)
        assert data is not None
        shown.append(np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16))
    top, bottom = shown[0][:20].reshape(-1, 3).mean(0), shown[0][-20:].reshape(-1, 3).mean(0)
    assert top[2] > 150 and top[0] < 80 and bottom[0] > 150  # blue on top, as the photo is shown
    assert shown[1][2, 2].min() > 240  # the transparent corner is white, not black
