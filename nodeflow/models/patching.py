"""Weight patches (LoRA and friends) applied to a shared module without reloading it.

Clones of a model share one ``nn.Module``; each clone carries its own list of patches. Before a
clone runs, ``PatchedModule.activate`` makes the shared weights equal to base + that clone's
patches: weights touched by the previous owner are restored from backups first. So removing a
LoRA (using a clone without it) restores the exact original weights."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from .fast_modes import require_float_weights
from .fp8_storage import stored_layers
from .half_storage import widens_to

# a patch computes the delta for one weight, given that weight (for shape/dtype)
DeltaFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Patch:
    key: str  # parameter name in the module's state_dict
    strength: float
    delta: DeltaFn
    source: str = ""  # e.g. the LoRA file name, for messages
    model_strength: float = 1.0  # the weight is multiplied by this before the delta is added
    value: object = None  # what the patch was made from, as given (e.g. a ComfyUI patch tuple)


def patched_value(weight: torch.Tensor, patch: Patch) -> torch.Tensor:
    """``weight`` (scaled by the patch's model strength) plus the patch's delta, in fp32."""
    delta = patch.delta(weight).to(device=weight.device, dtype=torch.float32)
    base = weight.float() if patch.model_strength == 1.0 else weight.float() * patch.model_strength
    return base + patch.strength * delta.reshape(weight.shape)


@dataclass
class _Shared:
    """State shared by every clone of one module: backups and who is applied now."""

    backups: dict[str, torch.Tensor] = field(default_factory=dict)
    applied: tuple = ()
    lock: threading.RLock = field(default_factory=threading.RLock)


def widen_for_patching(module: torch.nn.Module, weight: torch.nn.Parameter) -> None:
    """A 16-bit weight of a module computing in fp32 (``half_storage``) becomes fp32 before a patch
    is added: the patched sum is an fp32 number, as on a model loaded in fp32."""
    compute = widens_to(module, weight)
    if compute is not None:
        weight.data = weight.data.to(compute)


def restore_weight(weight: torch.nn.Parameter, original: torch.Tensor) -> None:
    """Put ``original`` back into ``weight``, in ``original``'s dtype (a widened 16-bit weight narrows again)."""
    if weight.dtype != original.dtype:
        weight.data = original.to(weight.device, copy=True)
    else:
        weight.copy_(original.to(weight.device))


class PatchedModule:
    """A module plus this clone's patches. ``clone()`` shares the module and the backups."""

    def __init__(self, module: torch.nn.Module, patches: tuple[Patch, ...] = (), shared: _Shared | None = None) -> None:
        self.module = module
        self.patches = patches
        self._shared = shared or _Shared()

    def clone(self) -> PatchedModule:
        return PatchedModule(self.module, self.patches, self._shared)

    def add_patches(self, patches: list[Patch]) -> None:
        require_float_weights(self.module)
        params = dict(self.module.named_parameters())
        missing = [p.key for p in patches if p.key not in params]
        if missing:
            raise KeyError(f"patch targets weights this model does not have: {missing[:3]}")
        self.patches = self.patches + tuple(patches)

    def activate(self) -> None:
        """Make the shared weights equal base + this clone's patches."""
        shared = self._shared
        with shared.lock:
            if shared.applied == self.patches:
                return
            params = dict(self.module.named_parameters())
            with torch.no_grad():
                for key, original in shared.backups.items():  # undo the previous owner
                    restore_weight(params[key], original)
                shared.backups.clear()
                shared.applied = ()
                stored = stored_layers(self.module)  # fp8-stored layers take their patches as they run
                for layer in stored.values():
                    layer.patches.clear()
                for patch in self.patches:
                    leaf, _, name = patch.key.rpartition(".")
                    if leaf in stored:
                        stored[leaf].patches.setdefault(name, []).append(functools.partial(patched_value, patch=patch))
                        continue
                    weight = params[patch.key]
                    if patch.key not in shared.backups:
                        shared.backups[patch.key] = weight.detach().to("cpu", copy=True)
                        widen_for_patching(self.module, weight)
                    weight.copy_(patched_value(weight, patch).to(weight.dtype))
            shared.applied = self.patches

    def original(self, key: str) -> torch.Tensor:
        """The unpatched value of parameter ``key`` (whichever clone's patches are applied now), in the
        dtype the module computes in (a 16-bit stored weight of an fp32 module comes widened, as on a
        module loaded in fp32)."""
        with self._shared.lock:
            backup = self._shared.backups.get(key)
            value = backup if backup is not None else self.module.get_parameter(key).detach()
        layer = stored_layers(self.module).get(key.rpartition(".")[0])
        compute = layer.compute if layer is not None else widens_to(self.module, value)
        return value.to(compute) if compute is not None else value

    def restore(self) -> None:
        """Put back the original weights (no patches applied)."""
        PatchedModule(self.module, (), self._shared).activate()
