"""``comfy.conds``: ComfyUI's wrappers of one conditioning tensor, as model extra_conds return them.
``process_cond`` fits the tensor to a batch (and ``CONDNoiseShape`` crops it to the noise area);
``can_concat``/``concat`` batch several of them."""

from __future__ import annotations

import math
from typing import Any

import torch


def _repeat_to(t: torch.Tensor, batch: int) -> torch.Tensor:
    if t.shape[0] == batch:
        return t
    return t.repeat(math.ceil(batch / t.shape[0]), *([1] * (t.dim() - 1)))[:batch]


class CONDRegular:
    def __init__(self, cond: torch.Tensor) -> None:
        self.cond = cond

    def _copy_with(self, cond: torch.Tensor) -> CONDRegular:
        return self.__class__(cond)

    def process_cond(self, batch_size: int, device=None, **kwargs: Any) -> CONDRegular:
        return self._copy_with(_repeat_to(self.cond, batch_size).to(device if device is not None else self.cond.device))

    def can_concat(self, other: CONDRegular) -> bool:
        return self.cond.shape == other.cond.shape

    def concat(self, others: list) -> torch.Tensor:
        return torch.cat([self.cond] + [o.cond for o in others])

    def size(self) -> list[int]:
        return list(self.cond.size())


class CONDNoiseShape(CONDRegular):
    """A spatial conditioning tensor cropped to the area being denoised: area = (h, w, y, x)."""

    def process_cond(self, batch_size: int, device=None, area=None, **kwargs: Any) -> CONDRegular:
        data = self.cond
        if area is not None:
            dims = len(area) // 2
            for i in range(dims):
                data = data.narrow(i + 2, area[i + dims], area[i])
        return self._copy_with(_repeat_to(data, batch_size).to(device if device is not None else data.device))


class CONDCrossAttn(CONDRegular):
    """Text conditioning; different token counts concatenate by repeating to their common multiple."""

    def can_concat(self, other: CONDRegular) -> bool:
        a, b = self.cond.shape, other.cond.shape
        return a[0] == b[0] and a[2:] == b[2:] and math.lcm(a[1], b[1]) // min(a[1], b[1]) <= 4

    def concat(self, others: list) -> torch.Tensor:
        conds = [self.cond] + [o.cond for o in others]
        length = math.lcm(*[c.shape[1] for c in conds])
        return torch.cat([c.repeat(1, length // c.shape[1], 1) if c.shape[1] != length else c for c in conds])


class CONDConstant(CONDRegular):
    """A value the same for every batch item (not a tensor batch)."""

    def process_cond(self, batch_size: int, device=None, **kwargs: Any) -> CONDConstant:
        return self._copy_with(self.cond)

    def can_concat(self, other: CONDRegular) -> bool:
        return self.cond == other.cond

    def concat(self, others: list) -> Any:
        return self.cond

    def size(self) -> list[int]:
        return [1]


class CONDList(CONDRegular):
    def __init__(self, cond: list) -> None:
        self.cond = cond

    def process_cond(self, batch_size: int, device=None, **kwargs: Any) -> CONDList:
        return self._copy_with(
            [_repeat_to(c, batch_size).to(device if device is not None else c.device) for c in self.cond]
        )

    def can_concat(self, other: CONDRegular) -> bool:
        return len(self.cond) == len(other.cond) and all(
            a.shape == b.shape for a, b in zip(self.cond, other.cond, strict=False)
        )

    def concat(self, others: list) -> list:
        return [torch.cat([self.cond[i]] + [o.cond[i] for o in others]) for i in range(len(self.cond))]

    def size(self) -> list[int]:
        return list(self.cond[0].size()) if self.cond else [0]
