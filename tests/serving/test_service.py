"""``carid serve`` as a client sees it: a real server process on loopback, real HTTP, every refusal a JSON 4xx."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from servekit import (
    Server,
    free_port,
    png_bomb,
    running_server,
    start_server,
    stop_server,
    toy_probability,
    two_tone,
    write_params,
    write_toy_export,
)

RED, BLUE, GREY = (220, 10, 10), (10, 10, 220), (120, 120, 120)
MAX_FILES, MAX_BYTES = 4, 300_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve")
    export = write_toy_export(root / "export")
    params = write_params(root, max_files=MAX_FILES, max_file_bytes=MAX_BYTES, max_wait_ms=30.0, max_batch=16)
    with running_server(export, params, root / "serve.log") as srv:
        yield srv


def post(server: Server, files: list[tuple[str, tuple[str, bytes]]], timeout: float = 30) -> requests.Response:
    return requests.post(f"{server.url}/predict", files=files, timeout=timeout)


def test_health_model_and_openapi(server: Server) -> None:
    health = requests.get(f"{server.url}/health", timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ready"
    assert requests.get(f"{server.url}/health/live", timeout=5).json() == {"status": "alive"}
    meta = requests.get(f"{server.url}/model", timeout=5).json()
    assert meta["classes"] == ["swift", "wagonr"] and meta["input"]["size"] == 32
    assert re.fullmatch(r"[0-9a-f]{12}", meta["version"]) and health.json()["model"] == meta["version"]
    spec = requests.get(f"{server.url}/openapi.json", timeout=5).json()
    assert "multipart/form-data" in spec["paths"]["/predict"]["post"]["requestBody"]["content"]


def test_one_and_many_photos_in_order_with_probabilities(server: Server) -> None:
    r = post(server, [("file", ("red.jpg", two_tone(RED, GREY))),
                      ("file", ("blue.png", two_tone(BLUE, GREY, fmt="PNG")))])
    assert r.status_code == 200, r.text
    body = r.json()
    first, second = body["predictions"]
    assert (first["file"], first["label"]) == ("red.jpg", "swift")
    assert (second["file"], second["label"]) == ("blue.png", "wagonr")
    assert second["probabilities"]["wagonr"] == pytest.approx(toy_probability(BLUE), abs=0.01)
    assert first["probability"] == pytest.approx(1 - toy_probability(RED), abs=0.01)
    assert first["probabilities"]["swift"] + first["probabilities"]["wagonr"] == pytest.approx(1.0)
    assert body["model"] == requests.get(f"{server.url}/model", timeout=5).json()["version"]


def test_exif_orientation_is_applied_as_carid_predict_does(server: Server) -> None:
    """The toy model looks at the top half only: stored red-over-blue, shown upside down, is blue on top."""
    upright = post(server, [("file", ("a.jpg", two_tone(RED, BLUE)))]).json()["predictions"][0]
    turned = post(server, [("file", ("b.jpg", two_tone(RED, BLUE, exif_orientation=3)))]).json()["predictions"][0]
    assert upright["label"] == "swift" and turned["label"] == "wagonr"


BAD = [
    ("not an image", [("file", ("notes.jpg", b"just text, named like a photo\n"))], 415, "not-an-image"),
    ("truncated", [("file", ("half.jpg", two_tone(RED, BLUE, size=(400, 300))[:800]))], 422, "truncated"),
    ("zero bytes", [("file", ("empty.jpg", b""))], 422, "empty"),
    ("decompression bomb", [("file", ("bomb.png", png_bomb()))], 413, "too-many-pixels"),
    ("over the size cap", [("file", ("huge.jpg", b"\xff\xd8" + b"0" * MAX_BYTES))], 413, "file-too-large"),
    ("too many files", [("file", (f"{i}.jpg", two_tone(RED, BLUE))) for i in range(MAX_FILES + 1)], 413,
     "too-many-files"),
    ("wrong field name", [("photo", ("a.jpg", two_tone(RED, BLUE)))], 422, "wrong-field"),
]


@pytest.mark.parametrize(("case", "files", "status", "error"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_clear_json_4xx(server: Server, case: str, files: list, status: int, error: str) -> None:
    r = post(server, files)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == error and body["detail"]
    if error not in {"too-many-files", "wrong-field"}:
        assert body["files"][0]["file"] == files[0][1][0]  # the file at fault is named


def test_a_bad_photo_among_good_ones_names_that_one(server: Server) -> None:
    broken = two_tone(RED, BLUE, size=(400, 300))[:900]
    r = post(server, [("file", ("ok.jpg", two_tone(RED, BLUE))), ("file", ("broken.jpg", broken))])
    assert r.status_code == 422
    assert [f["file"] for f in r.json()["files"]] == ["broken.jpg"]


def test_not_multipart_and_text_fields(server: Server) -> None:
    r = requests.post(f"{server.url}/predict", json={"file": "x"}, timeout=10)
    assert r.status_code == 415 and r.json()["error"] == "not-multipart"
    r = requests.post(f"{server.url}/predict", files={"file": (None, "just text")}, timeout=10)
    assert r.status_code == 422 and r.json()["error"] == "not-a-file"


def test_a_burst_of_bad_requests_during_normal_load(server: Server) -> None:
    """Good and bad requests from 8 clients at once: every good one answered right, every bad one a 4xx."""
    good = [("file", ("g.jpg", two_tone(BLUE, RED)))]
    jobs = [("good", good)] * 48 + [(c, f) for c, f, _, _ in BAD] * 3

    def send(job: tuple[str, list]) -> tuple[str, int, dict]:
        r = post(server, job[1])
        return job[0], r.status_code, r.json()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(send, jobs[::2] + jobs[1::2]))
    goods = [(s, b) for c, s, b in results if c == "good"]
    assert len(goods) == 48 and all(s == 200 and b["predictions"][0]["label"] == "wagonr" for s, b in goods)
    bads = [s for c, s, _ in results if c != "good"]
    assert len(bads) == 3 * len(BAD) and all(400 <= s < 500 for s in bads)
    assert requests.get(f"{server.url}/health", timeout=5).status_code == 200


def test_concurrent_requests_share_model_calls(server: Server) -> None:
    before = requests.get(f"{server.url}/health", timeout=5).json()["batches"]
    barrier = threading.Barrier(12)

    def send(i: int) -> int:
        barrier.wait()
        return post(server, [("file", (f"{i}.jpg", two_tone(RED, BLUE)))]).status_code

    with ThreadPoolExecutor(12) as pool:
        assert set(pool.map(send, range(12))) == {200}
    after = requests.get(f"{server.url}/health", timeout=5).json()["batches"]
    assert after["photos"] - before["photos"] == 12
    assert after["count"] - before["count"] < 12  # with a 30 ms wait, some photos rode together
    assert after["largest"] > 1


def test_one_log_line_per_request_with_its_latency(server: Server) -> None:
    post(server, [("file", ("logged.jpg", two_tone(RED, BLUE)))])
    time.sleep(0.2)
    lines = [ln for ln in server.log().splitlines() if "serving.access" in ln]
    assert any(re.search(r"POST /predict 200 1 photo \d+\.\d ms$", ln) for ln in lines)
    assert any(re.search(r"POST /predict 413 .*ms$", ln) for ln in lines)
    assert "Traceback" not in server.log()


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_drains_requests_in_flight(tmp_path: Path, workers: int) -> None:
    """SIGTERM arrives while a client is half-way through its upload; the request still gets its answer."""
    export = write_toy_export(tmp_path / "export")
    srv = start_server(export, write_params(tmp_path, workers=workers), tmp_path / "serve.log")
    boundary = "drain-test"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + two_tone(BLUE, RED) + f"\r\n--{boundary}--\r\n".encode()
    head = (f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary={boundary}"
            f"\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    port = int(srv.url.rsplit(":", 1)[1])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(head + body[: len(body) // 2])
            time.sleep(0.5)
            srv.proc.send_signal(signal.SIGTERM)
            time.sleep(1.0)  # the service is draining now: a new connection is refused (one process) or left
            with pytest.raises((requests.ConnectionError, requests.Timeout)):  # unanswered (the supervisor's socket)
                requests.get(f"{srv.url}/health", timeout=2)
            sock.sendall(body[len(body) // 2:])
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        status, _, payload = answer.partition(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 200"), answer[:300]
        assert json.loads(payload)["predictions"][0]["label"] == "wagonr"
        # one process: uvicorn re-raises the signal once drained, so the exit status says SIGTERM; with workers, its
        # supervisor stops each worker with SIGTERM, waits for them, and exits 0
        assert srv.proc.wait(timeout=30) == (-signal.SIGTERM if workers == 1 else 0)
    finally:
        stop_server(srv)
    log = srv.log()
    assert "stopped after" in log and "Traceback" not in log


def _serve_once(model: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    params = write_params(tmp_path)
    return subprocess.run([sys.executable, "-m", "carid.cli", "serve", "--model", str(model), "--port",
                           str(free_port()), "--params", str(params)], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path, check=False)


def test_a_missing_model_fails_at_start_naming_the_file(tmp_path: Path) -> None:
    proc = _serve_once(tmp_path / "nowhere", tmp_path)
    assert proc.returncode == 1
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and str(tmp_path / "nowhere" / "model.onnx") in errors[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("broken", ["model.onnx", "metadata.json"])
def test_a_corrupt_model_fails_at_start_naming_the_file(tmp_path: Path, broken: str) -> None:
    export = write_toy_export(tmp_path / "export")
    (export / broken).write_bytes(b"\x00garbage{")
    proc = _serve_once(export, tmp_path)
    assert proc.returncode == 1
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and str(export / broken) in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_serving_imports_neither_tensorflow_nor_training() -> None:
    code = ("import sys; import carid.cli, serving.app, serving.cli, serving.model; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'tensorflow', 'keras', 'jax'}); "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == ""
    code = "import sys; import serving.app, serving.cli; print(any(m.startswith('training') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "False"


def test_worker_processes_share_the_port_and_the_work(tmp_path: Path) -> None:
    export = write_toy_export(tmp_path / "export")
    with running_server(export, write_params(tmp_path, workers=2), tmp_path / "serve.log") as srv:
        pids: set[int] = set()
        for _ in range(200):  # a new connection each time: the kernel hands it to either worker
            pids.add(requests.get(f"{srv.url}/health", timeout=5, headers={"Connection": "close"}).json()["worker"])
            if len(pids) == 2:
                break
        assert len(pids) == 2 and srv.proc.pid not in pids
        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(lambda i: post(srv, [("file", (f"{i}.jpg", two_tone(RED, BLUE)))]), range(24)))
        assert all(r.status_code == 200 and r.json()["predictions"][0]["label"] == "swift" for r in got)
    assert "2 worker processes" in srv.log()
