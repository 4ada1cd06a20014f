"""The output cache: node outputs by input signature, bounded by a RAM budget, LRU first out."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

try:  # the engine works without torch for non-model nodes
    import torch
except ImportError:  # pragma: no cover
    torch = None


def estimate_bytes(value: Any, _depth: int = 0) -> int:
    """Bytes held by tensors and arrays inside ``value`` (models are the model manager's)."""
    if _depth > 6:
        return 0
    if torch is not None and isinstance(value, torch.Tensor):
        return value.element_size() * value.nelement()
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int) and not isinstance(value, (bytes, bytearray)):
        return nbytes
    if isinstance(value, (bytes, bytearray, str)):
        return len(value)
    if isinstance(value, dict):
        return sum(estimate_bytes(v, _depth + 1) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(estimate_bytes(v, _depth + 1) for v in value)
    return 0


class OutputCache:
    """``key -> (outputs, ui)``; ``budget_bytes=0`` disables caching entirely."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self._items: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._used = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._items

    def put(self, key: str, value: Any) -> None:
        if self.budget <= 0:
            return
        size = estimate_bytes(value)
        if size > self.budget:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._used -= old[1]
            self._items[key] = (value, size)
            self._used += size
            while self._used > self.budget and self._items:
                _, (_, freed) = self._items.popitem(last=False)
                self._used -= freed

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._used = 0

    def stats(self) -> dict:
        with self._lock:
            return {"entries": len(self._items), "bytes": self._used, "budget_bytes": self.budget}
