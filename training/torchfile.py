"""Read a PyTorch ``state_dict`` file into numpy arrays, without PyTorch.

Why hand-written: the ImageNet weights carid uses ship as one ``torch.save`` file, and PyTorch
itself is gigabytes that the training path does not otherwise need (and that the GPU machine's
Keras install does not carry). The file formats are small and stable:

- legacy (PyTorch < 1.6): five pickles in a row (magic number, protocol version, system info,
  the object, the list of storage keys), then each storage's raw bytes, every one preceded by
  its element count as a little-endian int64;
- zip (PyTorch >= 1.6): ``<name>/data.pkl`` plus one raw file ``<name>/data/<key>`` per storage.

In both, tensors are pickled as calls of ``torch._utils._rebuild_tensor_v2`` and storages as
persistent ids. The unpickler here is restricted: it resolves only those names, the storage
types and ``collections.OrderedDict``, so a file cannot run code while it is read, and anything
else in it is refused with a message naming the file.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

#: torch storage class name -> numpy dtype (little-endian, as torch writes them on every machine carid runs on)
STORAGE_DTYPES: dict[str, np.dtype[Any]] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
    "UntypedStorage": np.dtype("u1"),
}


class TorchFileError(Exception):
    """A file that is not a readable PyTorch state dict; the message names the file."""


@dataclass(frozen=True)
class _StorageType:
    name: str

    @property
    def dtype(self) -> np.dtype[Any]:
        return STORAGE_DTYPES[self.name]


@dataclass
class _Storage:
    key: str
    dtype: np.dtype[Any]
    numel: int
    data: np.ndarray | None = None  # filled once the raw bytes are read
    view: tuple[_Storage, int] | None = None  # (root storage, element offset) for legacy storage views

    def array(self) -> np.ndarray:
        if self.view is not None:
            root, offset = self.view
            return root.array()[offset:offset + self.numel]
        if self.data is None:
            raise TorchFileError(f"storage {self.key} has no data")
        return self.data


@dataclass
class _TensorRef:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...] = field(default=())

    def materialise(self) -> np.ndarray:
        flat = self.storage.array()
        if not self.shape:
            return np.array(flat[self.offset])
        needed = self.offset + sum((n - 1) * s for n, s in zip(self.shape, self.stride, strict=True)) + 1
        if any(n == 0 for n in self.shape):
            return np.zeros(self.shape, dtype=flat.dtype)
        if needed > len(flat):
            raise TorchFileError(f"tensor of shape {self.shape} runs past its storage {self.storage.key}")
        item = flat.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(flat[self.offset:], shape=self.shape,
                                               strides=tuple(s * item for s in self.stride))
        return np.array(view)  # a contiguous copy: the storage buffer may be shared


def _rebuild_tensor_v2(storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...],
                       *_rest: object) -> _TensorRef:
    return _TensorRef(storage, int(offset), tuple(int(n) for n in size), tuple(int(s) for s in stride))


def _rebuild_parameter(data: _TensorRef, *_rest: object) -> _TensorRef:
    return data


class _Unpickler(pickle.Unpickler):
    """Resolves only the few globals a state dict needs; storages come back as placeholders."""

    def __init__(self, fh: IO[bytes], storages: dict[str, _Storage]) -> None:
        super().__init__(fh)
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module in ("torch", "torch.storage") and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")

    def persistent_load(self, pid: Any) -> _Storage:
        if not isinstance(pid, tuple) or not pid or _text(pid[0]) != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r:.60}")
        kind, key, numel = pid[1], _text(pid[2]), int(pid[4])
        if not isinstance(kind, _StorageType):
            raise pickle.UnpicklingError(f"unexpected storage type {kind!r:.60}")
        root = self.storages.get(key)
        if root is None:
            root = self.storages[key] = _Storage(key, kind.dtype, numel)
        view_meta = pid[5] if len(pid) > 5 else None
        if view_meta is None:
            return root
        view_key, offset, view_size = _text(view_meta[0]), int(view_meta[1]), int(view_meta[2])
        view = self.storages.get(view_key)
        if view is None:
            view = self.storages[view_key] = _Storage(view_key, kind.dtype, view_size, view=(root, offset))
        return view


def _text(value: object) -> str:
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


def _materialise(obj: object) -> object:
    if isinstance(obj, _TensorRef):
        return obj.materialise()
    if isinstance(obj, dict):
        return {k: _materialise(v) for k, v in obj.items()}
    return obj


def _read_legacy(fh: IO[bytes]) -> object:
    storages: dict[str, _Storage] = {}
    magic = _Unpickler(fh, storages).load()
    if magic != LEGACY_MAGIC:
        raise TorchFileError("not a PyTorch file (wrong magic number)")
    _Unpickler(fh, storages).load()  # protocol version
    sys_info = _Unpickler(fh, storages).load()
    if isinstance(sys_info, dict) and sys_info.get("little_endian") is False:
        raise TorchFileError("big-endian PyTorch files are not supported")
    result = _Unpickler(fh, storages).load()
    keys = _Unpickler(fh, storages).load()
    for key in keys:
        st = storages[_text(key)]
        head = fh.read(8)
        if len(head) != 8:
            raise TorchFileError(f"file ends before storage {st.key}")
        (numel,) = struct.unpack("<q", head)
        raw = fh.read(numel * st.dtype.itemsize)
        if len(raw) != numel * st.dtype.itemsize:
            raise TorchFileError(f"file ends inside storage {st.key}")
        st.data = np.frombuffer(raw, dtype=st.dtype)
        st.numel = numel
    return result


def _read_zip(path: Path) -> object:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        pkl = next((n for n in names if n.endswith("/data.pkl") or n == "data.pkl"), None)
        if pkl is None:
            raise TorchFileError("zip file without data.pkl")
        prefix = pkl[: -len("data.pkl")]
        storages: dict[str, _Storage] = {}
        result = _Unpickler(io.BytesIO(zf.read(pkl)), storages).load()
        for key, st in storages.items():
            if st.view is not None:
                continue
            raw = zf.read(f"{prefix}data/{key}")
            st.data = np.frombuffer(raw, dtype=st.dtype)
    return result


def read_state_dict(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a ``torch.save``-d state dict, by name, as numpy arrays (no PyTorch needed)."""
    try:
        if zipfile.is_zipfile(path):
            obj = _read_zip(path)
        else:
            with path.open("rb") as fh:
                obj = _read_legacy(fh)
        out = _materialise(obj)
    except FileNotFoundError:
        raise TorchFileError(f"{path}: no such file") from None
    except TorchFileError as exc:
        raise TorchFileError(f"{path}: {exc}") from None
    except (pickle.UnpicklingError, EOFError, KeyError, IndexError, TypeError, ValueError, OSError,
            zipfile.BadZipFile, struct.error) as exc:
        raise TorchFileError(f"{path}: not a readable PyTorch state dict ({type(exc).__name__}: {exc})") from None
    if not isinstance(out, dict) or not all(isinstance(v, np.ndarray) for v in out.values()):
        raise TorchFileError(f"{path}: holds no state dict of tensors")
    return {str(k): v for k, v in out.items()}
