"""fp8 weight storage: linear and conv weights held in fp8, each layer computed in the compute dtype.

Just before a stored layer runs, its parameters are widened to the compute dtype; right after, the fp8
originals are put back, so the model never holds more than one widened layer. Everything else (norms,
embeddings, the patch/position embedders and the ``proj_in``/``proj_out`` convolutions, which fp8
would damage) is held in the compute dtype. The adaLN modulation linears (``norm1.linear`` and
friends) are stored in fp8 like every other linear: in Flux they are a quarter of the weights.

Weight patches (LoRA) on a stored layer are added to the widened weight while the layer runs
(``StoredLayer.patches``, set by ``patching.PatchedModule.activate``): rounding base + delta back into
fp8 would lose most of a LoRA (e4m3 keeps three mantissa bits), and keeping patched layers widened
would cost the memory fp8 saves. A patched layer therefore computes exactly what a full-precision
layer holding the fp8 weight plus the delta computes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

import torch

from .half_storage import COMPUTE_ATTR

__all__ = ["CASTABLE", "FP8_DTYPES", "StoredLayer", "bake_patches", "store_fp8", "stored_fp8", "stored_layers"]

FP8_DTYPES = tuple(getattr(torch, n) for n in ("float8_e4m3fn", "float8_e5m2") if hasattr(torch, n))

# the layer types whose weights are stored in fp8
CASTABLE = (
    torch.nn.Linear,
    torch.nn.Conv1d,
    torch.nn.Conv2d,
    torch.nn.Conv3d,
    torch.nn.ConvTranspose1d,
    torch.nn.ConvTranspose2d,
    torch.nn.ConvTranspose3d,
)
# layers kept in the compute dtype, by name: embedders of positions/patches and the network's own in/out
KEEP_PATTERNS = ("pos_embed", "patch_embed", r"^proj_in$", r"^proj_out$")
LAYERS_ATTR = "nodeflow_fp8_layers"

# a patch as a stored layer applies it: widened weight -> patched weight (set by patching.PatchedModule)
PatchFn = Callable[[torch.Tensor], torch.Tensor]


class StoredLayer:
    """One fp8-stored leaf: widens its parameters around a forward (its own, or its parent's when the
    parent reads the leaf's dtype first) and adds its patches."""

    def __init__(self, compute: torch.dtype, leaf: torch.nn.Module) -> None:
        self.compute = compute
        self.leaf = leaf
        self.patches: dict[str, list[PatchFn]] = {}  # parameter name ("weight") -> patches in order
        self._saved: dict[str, torch.Tensor] = {}

    def widened(self, name: str, stored: torch.Tensor) -> torch.Tensor:
        """Parameter ``name`` in the compute dtype with this layer's patches added."""
        value = stored.to(self.compute)
        for patch in self.patches.get(name, ()):
            value = patch(value).to(self.compute)
        return value

    def before(self, host: torch.nn.Module, args) -> None:
        if self._saved:  # the last forward raised before `after`: put its originals back first
            self.after(host, args, None)
        for name, param in self.leaf._parameters.items():
            if param is not None:
                self._saved[name] = param.data
                param.data = self.widened(name, param.data)

    def after(self, host: torch.nn.Module, args, output) -> None:
        for name, stored in self._saved.items():
            self.leaf._parameters[name].data = stored
        self._saved.clear()


def _kept(name: str, patterns: Iterable[str]) -> bool:
    return any(re.search(p, name) for p in patterns)


def store_fp8(
    module: torch.nn.Module,
    storage: torch.dtype,
    compute: torch.dtype,
    keep: Iterable[str] = KEEP_PATTERNS,
    widen_in_parent: Iterable[str] = (),
) -> torch.nn.Module:
    """Store ``module``'s linear/conv layers in ``storage`` (fp8) and compute each in ``compute``;
    every other tensor is held in ``compute``. Layer by layer, so no full-precision copy is made.
    ``widen_in_parent``: name patterns of layers whose parent reads their weight's dtype before calling
    them (transformers' T5 casts its activations to ``wo``'s): they are widened for the parent's forward."""
    keep, in_parent = tuple(keep), tuple(widen_in_parent)
    modules = dict(module.named_modules())
    layers: dict[str, StoredLayer] = {}
    for name, leaf in modules.items():
        if any(True for _ in leaf.children()):
            continue
        stored = isinstance(leaf, CASTABLE) and not _kept(name, keep)
        leaf.to(storage if stored else compute)
        if stored:
            layer = StoredLayer(compute, leaf)
            host = modules[name.rpartition(".")[0]] if _kept(name, in_parent) else leaf
            host.register_forward_pre_hook(layer.before)
            host.register_forward_hook(layer.after, always_call=True)
            layers[name] = layer
    for param in module.parameters(recurse=False):  # parameters held by the model itself
        param.data = param.data.to(compute)
    setattr(module, LAYERS_ATTR, layers)
    setattr(module, COMPUTE_ATTR, compute)
    return module


def stored_fp8(sd: Mapping[str, torch.Tensor]) -> torch.dtype | None:
    """The fp8 dtype most of a file's weights are stored in (fp8 files), else None."""
    sizes: dict = {}
    for v in sd.values():
        sizes[v.dtype] = sizes.get(v.dtype, 0) + v.numel()
    fp8 = {d: n for d, n in sizes.items() if d in FP8_DTYPES}
    return max(fp8, key=fp8.get) if fp8 and sum(fp8.values()) * 2 > sum(sizes.values()) else None


def stored_layers(module: torch.nn.Module) -> dict[str, StoredLayer]:
    """The fp8-stored layers of ``module`` by name ({} for a module not stored in fp8)."""
    return getattr(module, LAYERS_ATTR, None) or {}


def bake_patches(module: torch.nn.Module, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` (``module``'s state dict) with the patches of its fp8-stored layers added, each tensor
    in its dtype in ``state`` (what a saver writes: base + LoRA rounded once)."""
    for leaf, layer in stored_layers(module).items():
        for name in layer.patches:
            key = f"{leaf}.{name}" if leaf else name
            if key in state:
                state[key] = layer.widened(name, module.get_parameter(key).detach()).to(state[key].dtype).cpu()
    return state
