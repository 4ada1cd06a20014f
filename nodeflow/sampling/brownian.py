"""Brownian-tree noise for the SDE samplers (the noise source ComfyUI's SDE samplers use).

One torchsde ``BrownianTree`` per sampling run, spanning the schedule from its smallest
positive sigma to its largest with time = sigma, ``w0`` zeros of the latent's shape and the
run's seed as entropy.  The noise for a step from ``sigma`` down to ``sigma_next`` is the
tree's increment over ``[sigma_next, sigma]``, negated (sigma runs backwards in time) and
divided by the square root of the interval length, so it is standard normal.

Unlike independent draws, the increments of one tree are consistent across step sizes: a
finer schedule refines the same Brownian path, which keeps SDE samples stable when the step
count changes.  Times are handled in float32 throughout, as the samplers' sigmas are float32
and the tree resolves times far below float32 precision (a different rounding of a query time
gives a different noise).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence

import torch

from ._common import SamplerExtras

__all__ = ["BrownianNoise", "with_brownian_noise"]


def _f32(value: float) -> torch.Tensor:
    return torch.tensor(value, dtype=torch.float32)


class BrownianNoise:
    """``noise(sigma, sigma_next)`` from one Brownian tree over the run's sigmas.

    ``on_device=False`` builds the tree on the CPU whatever the latent's device (ComfyUI's
    plain SDE names); ``True`` builds it on the latent's device (the ``_gpu`` names).  The tree
    is created on the first query, so runs that never ask for noise never build one.
    """

    def __init__(
        self,
        shape: Sequence[int],
        sigmas: Sequence[float],
        seed: int,
        device: torch.device | str = "cpu",
        on_device: bool = False,
    ) -> None:
        positive = [float(s) for s in sigmas if float(s) > 0.0]
        if not positive:
            raise ValueError("a Brownian tree needs at least one positive sigma")
        self.t0, self.t1 = min(positive), max(positive)
        self.shape = tuple(shape)
        self.seed = int(seed)
        self.device = torch.device(device)
        self.tree_device = self.device if on_device else torch.device("cpu")
        self._tree = None

    def _build(self):
        import torchsde  # imported lazily: only the SDE samplers need it

        w0 = torch.zeros(self.shape, dtype=torch.float32, device=self.tree_device)
        return torchsde.BrownianTree(_f32(self.t0), w0, _f32(self.t1), entropy=self.seed)

    def __call__(self, sigma: float, sigma_next: float) -> torch.Tensor:
        if self._tree is None:
            self._tree = self._build()
        low, high = sorted((float(sigma), float(sigma_next)))
        # the increment is taken in increasing time; sigma decreases along the run
        sign = -1.0 if sigma > sigma_next else 1.0
        t_low, t_high = _f32(low), _f32(high)
        with warnings.catch_warnings():
            # torchsde rounds the tree's ends to 1e-6 and warns (then clamps) when a query at
            # the largest sigma lands just past the rounded end; that is expected here
            warnings.filterwarnings("ignore", message="Should have t", category=UserWarning)
            w = self._tree(t_low, t_high)
        w = w.to(device=self.device, dtype=torch.float32)
        return w * sign / (t_high - t_low).abs().sqrt()


def with_brownian_noise(
    extra: SamplerExtras | None, x: torch.Tensor, sigmas: torch.Tensor, on_device: bool = False
) -> SamplerExtras:
    """``extra`` with a Brownian-tree noise source for this run (kept when it already has one)."""
    extra = extra if extra is not None else SamplerExtras()
    if extra.noise is not None:
        return extra
    values = [float(s) for s in torch.as_tensor(sigmas).reshape(-1)]
    if not any(v > 0.0 for v in values):
        return extra  # no step can ask for noise
    noise = BrownianNoise(x.shape, values, extra.seed, device=x.device, on_device=on_device)
    return dataclasses.replace(extra, noise=noise)
