"""Helpers for the prediction-service tests: a small exported model, photos, a real server on loopback."""

from __future__ import annotations

import io
import json
import math
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import requests
import yaml
from onnx import TensorProto, helper
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SIZE = 32
#: the toy model's slope: P(wagonr) = sigmoid(GAIN * (mean blue - mean red) / 255 over the top half of the photo)
GAIN = 6.0


def toy_probability(top_rgb: tuple[int, int, int]) -> float:
    """What the toy model says for a photo whose top half is one colour (computed here, not by onnxruntime)."""
    r, _, b = top_rgb
    return 1.0 / (1.0 + math.exp(-GAIN * (b - r) / 255.0))


def write_toy_export(folder: Path, size: int = SIZE) -> Path:
    """An export folder (model.onnx + metadata.json) holding a tiny hand-built ONNX graph.

    It reads only the top half of the photo, so a photo shown sideways (EXIF orientation
    ignored) gets a different answer: blue on top means wagonr, red on top means swift.
    """
    half = size // 2
    nodes = [
        helper.make_node("Slice", ["image", "starts", "ends", "axes"], ["top"]),
        helper.make_node("ReduceMean", ["top"], ["mean"], axes=[1, 2], keepdims=0),
        helper.make_node("MatMul", ["mean", "w"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["p"]),
    ]
    inits = [
        helper.make_tensor("starts", TensorProto.INT64, [1], [0]),
        helper.make_tensor("ends", TensorProto.INT64, [1], [half]),
        helper.make_tensor("axes", TensorProto.INT64, [1], [1]),
        helper.make_tensor("w", TensorProto.FLOAT, [3, 1], [-GAIN / 255.0, 0.0, GAIN / 255.0]),
    ]
    graph = helper.make_graph(
        nodes, "toy", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", size, size, 3])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, ["batch", 1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / "model.onnx"))
    meta = {"variant": "toy", "classes": ["swift", "wagonr"], "output": "P(wagonr), one sigmoid unit",
            "input": {"size": size, "layout": "NHWC", "channels": "RGB", "dtype": "float32"},
            "metrics": {"val_accuracy": 0.5}, "source_data_sha256": "0" * 64}
    (folder / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


def two_tone(top: tuple[int, int, int], bottom: tuple[int, int, int], size: tuple[int, int] = (64, 48),
             fmt: str = "JPEG", exif_orientation: int = 0) -> bytes:
    """A photo whose upper half is ``top`` and lower half ``bottom``; optionally with an EXIF orientation tag."""
    w, h = size
    arr = np.zeros((h, w, 3), np.uint8)
    arr[: h // 2] = top
    arr[h // 2:] = bottom
    buf = io.BytesIO()
    kwargs: dict[str, object] = {"quality": 95} if fmt == "JPEG" else {}
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kwargs["exif"] = exif.tobytes()
    Image.fromarray(arr).save(buf, fmt, **kwargs)
    return buf.getvalue()


def png_bomb(width: int = 40_000, height: int = 40_000) -> bytes:
    """A small, valid-looking PNG whose header claims ``width`` x ``height`` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1024))
            + chunk(b"IEND", b""))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_params(folder: Path, **serve: object) -> Path:
    """The repo's params.yaml with the ``serve`` keys given replaced (one worker process unless given)."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    raw["serve"].update({"workers": 1, **serve})
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[str]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def start_server(model: Path, params: Path, log_path: Path, timeout: float = 60.0) -> Server:
    """``carid serve`` in its own process on a free loopback port, once /health says ready."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "carid.cli", "serve", "--model", str(model), "--port",
                                 str(port), "--params", str(params)], cwd=params.parent, env=env,
                                stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"carid serve exited with {proc.returncode}: {log_path.read_text()}")
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return Server(url, proc, log_path)
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"carid serve did not get ready in {timeout} s: {log_path.read_text()}")


def stop_server(server: Server, timeout: float = 30.0) -> int:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()
    return server.proc.returncode


@contextmanager
def running_server(model: Path, params: Path, log_path: Path) -> Iterator[Server]:
    server = start_server(model, params, log_path)
    try:
        yield server
    finally:
        stop_server(server)
