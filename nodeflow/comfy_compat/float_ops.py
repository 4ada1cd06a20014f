"""``comfy.float``: casting weights to low-precision float types with seeded stochastic rounding."""

from __future__ import annotations

import torch

_MANTISSA_BITS = {
    getattr(torch, name): bits
    for name, bits in (("float8_e4m3fn", 3), ("float8_e5m2", 2), ("float16", 10), ("bfloat16", 7))
    if hasattr(torch, name)
}


def stochastic_rounding(value: torch.Tensor, dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
    """``value`` cast to ``dtype``, rounding up or down at random in proportion to the distance (so
    the rounding is unbiased on average); a generator seeded with ``seed`` makes it repeatable.
    float32 and wider types are a plain cast."""
    bits = _MANTISSA_BITS.get(dtype)
    if bits is None:
        return value.to(dtype=dtype)
    generator = torch.Generator(device=value.device).manual_seed(int(seed))
    x = value.float()
    tiny = torch.finfo(dtype).tiny
    exponent = torch.floor(torch.log2(x.abs().clamp(min=tiny)))
    ulp = torch.pow(2.0, exponent - bits)
    lower = torch.floor(x / ulp) * ulp
    up = torch.rand(x.shape, generator=generator, device=x.device) < (x - lower) / ulp
    rounded = torch.where(up, lower + ulp, lower)
    info = torch.finfo(dtype)
    return rounded.clamp(info.min, info.max).to(dtype=dtype)
