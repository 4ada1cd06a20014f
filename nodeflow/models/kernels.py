"""Which kernels a loaded diffusion network or ControlNet computes with: NodeFlow's fast CPU
paths (small feature maps as one GEMM: ``small_conv``; linear layers through oneDNN:
``fast_linear``) by default, or torch's own everywhere with ``--plain-kernels`` (bit-identical to
torch's modules). Cross-attention keys/values are remembered per run either way (``context_cache``:
the same numbers, computed once)."""

from __future__ import annotations

import torch

from . import half_storage
from .context_cache import ContextProjection, cache_context_projections
from .fast_linear import OneDNNLinear
from .small_conv import SmallInputConv2d

# torch's class -> NodeFlow's subclass with the fast kernel (same parameters and state dict)
FAST = {torch.nn.Conv2d: SmallInputConv2d, torch.nn.Linear: OneDNNLinear}
PLAIN = {fast: plain for plain, fast in FAST.items()}


def use_kernels(module: torch.nn.Module, plain: bool = False) -> int:
    """Turn every conv / linear layer of ``module`` to the fast kernels (or back to torch's with
    ``plain``), in place; returns how many layers changed. Context projections keep their memory
    and compute with whichever linear kernel is chosen. torch's kernels need the compute dtype's
    weights: 16-bit stored weights (``half_storage``) widen for them and narrow again after."""
    if plain:
        half_storage.widen_all(module)
    else:
        half_storage.narrow_back(module)
    table = PLAIN if plain else FAST
    turned = 0
    for sub in module.modules():
        target = table.get(type(sub))
        if target is not None:
            sub.__class__ = target
            turned += 1
        elif isinstance(sub, ContextProjection):
            sub.plain = plain
    return turned


def prepare_network(module: torch.nn.Module, manager=None) -> torch.nn.Module:
    """Kernels as the model manager says (``--plain-kernels``) and context projections, once per
    module and choice (a marker keeps clones from walking it again)."""
    cache_context_projections(module)
    want = "plain" if getattr(manager, "plain_kernels", False) else "fast"
    if getattr(module, "_nodeflow_kernels", None) != want:
        use_kernels(module, plain=want == "plain")
        module._nodeflow_kernels = want
    return module
