"""Layers built on the meta device skip their random initialisation (imported for that effect).

Loading builds every network on the meta device and then assigns the file's tensors. torch still runs
each layer's initialisation there, and on the meta device ``uniform_`` / ``normal_`` go through Python
decompositions (and import torch's symbolic-shape machinery): half a second of an SD cold start for
values a meta tensor does not even hold. Importing this module makes the ``reset_parameters`` of torch's
linear, convolution and embedding layers return at once when the layer's weight is on the meta device;
on any other device they initialise exactly as before (same values, same random-number stream)."""

from __future__ import annotations

import torch

LAYERS = (torch.nn.Linear, torch.nn.modules.conv._ConvNd, torch.nn.Embedding)


def _skip_on_meta(cls: type) -> None:
    original = cls.reset_parameters
    if getattr(original, "nodeflow_skips_meta", False):
        return

    def reset_parameters(self) -> None:
        if self.weight.is_meta:
            return
        original(self)

    reset_parameters.nodeflow_skips_meta = True
    reset_parameters.__doc__ = original.__doc__
    cls.reset_parameters = reset_parameters


for _cls in LAYERS:
    _skip_on_meta(_cls)
