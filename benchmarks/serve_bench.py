"""The prediction service under load, beside onnxruntime's raw rate on the same machine, in one run.

    python benchmarks/serve_bench.py [--model data/export] [--requests 300] [--rounds 5] [--concurrency 1 4 8 16]

The model is ``--model`` when given (an export folder), else ``data/export`` when it exists,
else carid's ``residual`` variant, untrained, at ``train.image_size`` from params.yaml,
exported to ONNX by carid's own export (weights do not change the speed). The photos are
400x300 JPEGs like the demo's. Steps, all in one run:

1. raw: the model in an onnxruntime session in this process, batches of ``serve.max_batch``
   already-decoded photos (inference only), then the same with each JPEG decoded first by
   carid's decoder (the work a request needs besides HTTP), in this one process;
2. served: ``carid serve`` in its own process on loopback; at each concurrency, that many
   client threads with keep-alive connections send a bounded number of one-photo requests
   (prebuilt request bytes on raw sockets, as wrk sends them: the client shares the cores).

Both run in ``--rounds`` interleaved rounds, so a slow spell of the machine hits raw and served
alike; each ratio is taken within its round.

Prints photos/s, p50 and p99 latency per concurrency and the ratio of served photos/s to
the raw rates. carid's target: >= 0.7 of raw at concurrency 8 on a 2-core machine. The
client runs on the same cores as the service, as a local client would.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from carid.images import decode_bytes
from carid.params import ServeParams, load_params
from serving.model import OnnxClassifier

BOUNDARY = "carid-bench-boundary"


def photo(seed: int) -> bytes:
    """A 400x300 photo-like JPEG: a gradient, shapes, noise and a little blur."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, 300)[:, None, None]
    base = (rng.integers(0, 256, 3) * (1 - t) + rng.integers(0, 256, 3) * t) * np.ones((1, 400, 1))
    img = Image.fromarray(base.astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(8):
        x, y = int(rng.integers(0, 350)), int(rng.integers(0, 250))
        draw.ellipse((x, y, x + int(rng.integers(30, 160)), y + int(rng.integers(30, 120))),
                     fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    noisy = np.asarray(img, np.int16) + rng.normal(0, 6, (300, 400, 3)).astype(np.int16)
    out = Image.fromarray(noisy.clip(0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.7))
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def build_model(folder: Path, params: Path) -> Path:
    """carid's residual variant, untrained, exported the way `carid train export` exports."""
    import keras

    from training.export import export_onnx
    from training.models import residual_cnn

    size = load_params(params).train.image_size
    keras.utils.set_random_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    residual_cnn(size).save(folder / "model.keras")
    export_onnx(folder / "model.keras", folder / "model.onnx")
    meta = {"variant": "residual (untrained, benchmark)", "classes": ["swift", "wagonr"], "input": {"size": size}}
    (folder / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


def raw_rates(model: OnnxClassifier, bodies: list[bytes], batch: int, seconds: float) -> tuple[float, float]:
    """(inference only, decode + inference) photos/s in this process."""
    size = model.info.image_size
    x = np.stack([decode_bytes(b, size, "bench") for b in bodies[:batch]])
    model.run(x)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        model.run(x)
        n += len(x)
    infer = n / (time.perf_counter() - start)
    n, i, start = 0, 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        chunk = [bodies[(i + k) % len(bodies)] for k in range(batch)]
        model.run(np.stack([decode_bytes(b, size, "bench") for b in chunk]))
        n += batch
        i += batch
    return infer, n / (time.perf_counter() - start)


def multipart(body: bytes, name: str) -> bytes:
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode()
    return head + body + f"\r\n--{BOUNDARY}--\r\n".encode()


def request_bytes(body: bytes) -> bytes:
    """One whole keep-alive POST /predict, built once: the load generator only sends bytes."""
    head = (f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}"
            f"\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def read_response(sock: socket.socket, buf: bytearray) -> tuple[bytes, bytes]:
    """(status line, body) of one response with a Content-Length; ``buf`` carries bytes read past it."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the service closed the connection")
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    length = int(match.group(1)) if match else 0
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the service closed the connection")
        rest += chunk
    buf[:] = rest[length:]
    return head.split(b"\r\n", 1)[0], rest[:length]


def load(port: int, requests: list[bytes], concurrency: int, total: int) -> tuple[float, list[float]]:
    """``total`` one-photo requests from ``concurrency`` keep-alive clients; (seconds, latencies in ms).

    The clients write prebuilt request bytes to raw sockets and read back only the status and the body, as a
    load generator such as wrk does: an HTTP client library would spend more of the shared cores than the
    service's own request handling (http.client: about 0.25 ms per request here)."""
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(total))
    failures: list[str] = []

    def client() -> None:
        mine: list[float] = []
        buf = bytearray()
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    break
                t0 = time.perf_counter()
                sock.sendall(requests[i % len(requests)])
                status, body = read_response(sock, buf)
                mine.append((time.perf_counter() - t0) * 1000)
                if b" 200 " not in status or b'"predictions"' not in body:
                    failures.append(f"{status!r} {body[:200]!r}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - start
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[0]}")
    return took, latencies


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_service(model: Path, params: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``carid serve`` with its log (a line per request) in a file: a pipe nobody reads would block it."""
    with log.open("wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "carid.cli", "serve", "--model", str(model), "--port",
                                 str(port), "--params", str(params)], stdout=fh, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"carid serve exited: {log.read_text(errors='replace')}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("carid serve did not get ready in 60 s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--requests", type=int, default=300, help="requests per concurrency level and round")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8, 16])
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are printed")
    ap.add_argument("--raw-seconds", type=float, default=1.5)
    args = ap.parse_args()
    settings: ServeParams = load_params(args.params).serve
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = args.model or (Path("data/export") if (Path("data/export") / "model.onnx").is_file() else None)
        if model_dir is None:
            model_dir = build_model(Path(tmp) / "export", args.params)
        bodies = [photo(seed) for seed in range(64)]
        model = OnnxClassifier(model_dir, settings.threads)
        print(f"model: {model_dir} ({model.info.metadata.get('variant', '?')}, {model.info.image_size}x"
              f"{model.info.image_size} input), {os.cpu_count()} cores, serve.max_batch {settings.max_batch}, "
              f"max_wait_ms {settings.max_wait_ms}, {settings.worker_count()} worker(s) of "
              f"{settings.thread_count()} thread(s); "
              f"{args.rounds} interleaved rounds of raw and served, medians [min-max]")
        payloads = [request_bytes(multipart(b, f"p{i}.jpg")) for i, b in enumerate(bodies)]
        port = free_port()
        proc = start_service(model_dir, args.params, port, Path(tmp) / "serve.log")
        raw: dict[str, list[float]] = {"infer": [], "decode": []}
        served: dict[int, list[float]] = {c: [] for c in args.concurrency}
        ratio: dict[int, list[tuple[float, float]]] = {c: [] for c in args.concurrency}
        latency: dict[int, list[float]] = {c: [] for c in args.concurrency}
        try:
            load(port, payloads, 4, 64)  # warm-up: threads, connections, the first batches
            for _ in range(args.rounds):
                infer, decode_infer = raw_rates(model, bodies, settings.max_batch, args.raw_seconds)
                raw["infer"].append(infer)
                raw["decode"].append(decode_infer)
                for c in args.concurrency:
                    took, lat = load(port, payloads, c, args.requests)
                    rate = args.requests / took
                    served[c].append(rate)
                    ratio[c].append((rate / infer, rate / decode_infer))
                    latency[c].extend(lat)
        finally:
            proc.terminate()
            proc.wait(30)

    def med(xs: list[float], fmt: str = "{:.0f}") -> str:
        return f"{fmt.format(float(np.median(xs)))} [{fmt.format(min(xs))}-{fmt.format(max(xs))}]"

    print(f"raw onnxruntime, inference only:      {med(raw['infer'])} photos/s")
    print(f"raw onnxruntime, decode + inference:  {med(raw['decode'])} photos/s")
    print(f"{'clients':>7}  {'photos/s':<16} {'p50 ms':>7} {'p99 ms':>7}  {'ratio to inference':<20} "
          f"{'ratio to decode + inference'}")
    for c in args.concurrency:
        p50, p99 = np.percentile(latency[c], [50, 99])
        to_infer, to_decode = med([r[0] for r in ratio[c]], "{:.2f}"), med([r[1] for r in ratio[c]], "{:.2f}")
        print(f"{c:>7}  {med(served[c]):<16} {p50:>7.1f} {p99:>7.1f}  {to_infer:<20} {to_decode}")


if __name__ == "__main__":
    main()
