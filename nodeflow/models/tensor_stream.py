"""The tensors of one .safetensors file, read in a background thread while the caller does other work
(imports, building the network on the meta device); ``finish()`` lends the calling thread as a second
reader for what is left, then returns them all in file order.

Tensors cast on arrival to ``dtype_for(name, stored dtype)`` are read with positional reads through a
staging tensor per reader (a mapped file's pages would count in the resident memory beside their casts:
an fp16 file loaded as fp32 would peak at 1.5x its weights). Large tensors kept as stored (``dtype_for``
gives None or their dtype) are viewed from the file's pages instead (``mapped_weights``: no copy until the
server is idle); small ones are read into their own memory. Filling fresh
memory costs page faults, CPU work: two readers halve it (2 GB: 1.05 s instead of 1.71 s here)."""

from __future__ import annotations

import os
import struct
import threading
from collections import deque
from pathlib import Path

import torch

from . import mapped_weights
from .checkpoint_file import SAFETENSORS_DTYPES, ModelFileError, safetensors_header


class TensorStream:
    def __init__(self, path: Path, dtype_for) -> None:
        self.path = Path(path)
        self.dtype_for = dtype_for
        header, _ = safetensors_header(self.path)
        self._file = open(self.path, "rb", buffering=0)  # noqa: SIM115 -- closed by finish()/cancel()
        (length,) = struct.unpack("<Q", self._file.read(8))
        self._base = 8 + length
        self._size = os.fstat(self._file.fileno()).st_size
        entries = sorted(
            ((k, v) for k, v in header.items() if isinstance(v, dict) and "data_offsets" in v),
            key=lambda kv: int(kv[1]["data_offsets"][0]),
        )
        self._order = [name for name, _ in entries]
        self._todo = deque(entries)
        self._out: dict[str, torch.Tensor] = {}
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._staging = threading.local()
        self._thread = threading.Thread(target=self._work, name="nodeflow-read", daemon=True)
        self._thread.start()

    def finish(self) -> dict[str, torch.Tensor]:
        """Help read what is left, wait for the background reader, return every tensor in file order."""
        self._work()
        self._thread.join()
        self._file.close()
        if self._error is not None:
            raise self._error
        return {name: self._out[name] for name in self._order}

    def cancel(self) -> None:
        """Stop reading (the caller failed); nothing is returned."""
        with self._lock:
            self._todo.clear()
        self._thread.join()
        self._file.close()

    def _work(self) -> None:
        while True:
            with self._lock:
                if self._error is not None or not self._todo:
                    return
                name, entry = self._todo.popleft()
            try:
                tensor = self._read(name, entry)
            except BaseException as exc:  # reported by finish(), in the caller's thread
                with self._lock:
                    self._error = self._error or exc
                return
            self._out[name] = tensor

    def _read(self, name: str, entry: dict) -> torch.Tensor:
        stored = SAFETENSORS_DTYPES.get(entry.get("dtype"))
        if stored is None:
            raise ModelFileError(f"{self.path.name}: tensor {name} has an unknown dtype {entry.get('dtype')!r}")
        start, end = (int(x) for x in entry["data_offsets"])
        shape = tuple(int(d) for d in entry["shape"])
        target = self.dtype_for(name, stored) if stored.is_floating_point else None
        cast = target is not None and target != stored
        raw = None if cast else self._mapped(start, end)
        if raw is None:  # read: through the staging tensor when cast, else into the tensor's own memory
            if cast:
                staging = getattr(self._staging, "buf", None)
                if staging is None or staging.numel() < end - start:
                    staging = self._staging.buf = torch.empty(end - start, dtype=torch.uint8)
                raw = staging[: end - start]
            else:
                raw = torch.empty(end - start, dtype=torch.uint8)
            self._fill(raw, self._base + start, name)
        try:
            tensor = raw.view(stored).reshape(shape)
        except RuntimeError as exc:
            raise ModelFileError(
                f"{self.path.name}: tensor {name} does not fit its shape {list(shape)} ({exc})"
            ) from None
        return tensor.to(target) if cast else tensor

    def _mapped(self, start: int, end: int) -> torch.Tensor | None:
        """A tensor kept as stored: viewed from the file's pages when it is large (``mapped_weights``)."""
        if end - start < mapped_weights.MIN_BYTES or self._base + end > self._size:
            return None
        return mapped_weights.map_tensor(self._file.fileno(), self._base + start, end - start)

    def _fill(self, raw: torch.Tensor, offset: int, name: str) -> None:
        view = memoryview(raw.numpy())
        done = 0
        while done < len(view):  # one read returns at most ~2 GB
            got = os.preadv(self._file.fileno(), [view[done:]], offset + done)
            if got <= 0:
                raise ModelFileError(
                    f"{self.path.name} ended inside tensor {name}; the download or copy did not finish"
                )
            done += got
