"""Weights that stay as the file stores them, viewed straight from the file's pages instead of copied.

A cold start spends about a second copying an SD1.5 checkpoint's 2 GB of fp16 weights from the page
cache into fresh memory (faulting in and filling every page). ``map_tensor`` instead maps the tensor's
bytes privately (copy-on-write: nothing written ever reaches the file) and lets the tensor use them in
place; the first image comes that much sooner.

A mapping follows the file: if another program truncated or rewrote a loaded checkpoint in place, the
mapped weights would change under the model or fault. So the mapping lasts only until the server is
next idle: ``materialize()`` (called by ``Engine.idle``) copies every mapped weight of the modules built
from them (``track``) into the process's own memory, one tensor at a time, and each mapping closes as its
last view goes."""

from __future__ import annotations

import bisect
import logging
import mmap
import threading
import weakref

import torch

log = logging.getLogger(__name__)

MIN_BYTES = 1 << 20  # smaller tensors are read: a mapping per bias or norm would cost more than it saves

_lock = threading.Lock()
_starts: list[int] = []  # sorted start addresses of live mappings
_ends: dict[int, int] = {}  # start address -> end address
_modules: weakref.WeakSet = weakref.WeakSet()


def map_tensor(fileno: int, offset: int, nbytes: int) -> torch.Tensor | None:
    """The ``nbytes`` at ``offset`` of the open file as a uint8 tensor sharing the file's pages (private,
    copy-on-write), or None when the file cannot be mapped (then the caller reads it)."""
    start = offset - offset % mmap.ALLOCATIONGRANULARITY
    try:
        mapping = mmap.mmap(
            fileno, offset - start + nbytes, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE, offset=start
        )
    except (OSError, ValueError, AttributeError):  # AttributeError: no MAP_PRIVATE on this platform
        return None
    tensor = torch.frombuffer(mapping, dtype=torch.uint8, count=nbytes, offset=offset - start)
    address = tensor.data_ptr()
    with _lock:
        bisect.insort(_starts, address)
        _ends[address] = address + nbytes
    weakref.finalize(mapping, _forget, address)  # the tensor's storage holds the mapping until its last view
    return tensor


def _forget(address: int) -> None:
    with _lock:
        _ends.pop(address, None)
        index = bisect.bisect_left(_starts, address)
        if index < len(_starts) and _starts[index] == address:
            _starts.pop(index)


def is_mapped(tensor: torch.Tensor) -> bool:
    """Whether ``tensor``'s data lies in a live mapping."""
    if tensor.device.type != "cpu" or tensor.numel() == 0:
        return False
    address = tensor.data_ptr()
    with _lock:
        index = bisect.bisect_right(_starts, address) - 1
        return index >= 0 and address < _ends[_starts[index]]


def _tensors(module: torch.nn.Module):
    yield from module.parameters()
    yield from module.buffers()


def track(module: torch.nn.Module) -> torch.nn.Module:
    """Remember ``module`` for ``materialize`` when any of its weights is mapped."""
    if _starts and any(is_mapped(t) for t in _tensors(module)):
        _modules.add(module)
    return module


def mapped_bytes() -> int:
    """Bytes of the live mappings."""
    with _lock:
        return sum(end - start for start, end in _ends.items())


def materialize() -> int:
    """Copy the mapped weights of every tracked module into the process's own memory (the same values);
    returns how many bytes were copied."""
    copied = 0
    for module in list(_modules):
        for tensor in _tensors(module):
            if is_mapped(tensor):
                tensor.data = tensor.data.clone()
                copied += tensor.numel() * tensor.element_size()
        _modules.discard(module)
    if copied:
        log.info("copied %.0f MB of mapped weights into memory", copied / 2**20)
    return copied
