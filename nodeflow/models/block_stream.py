"""Running a module bigger than the device budget (--lowvram): its blocks visit the device one at a time.

The module is cut into units: a child that fits ``limit`` bytes is one unit, a bigger child is cut the
same way inside (a block too big to cut is one unit whatever its size, and said so in the log). The
parameters that belong to no unit (the ancestors' own weights: embeddings, norms, biases held
directly) stay on the device while the module is placed; each unit moves onto the device just before
its forward and back to the offload device right after it, so the device holds the remainder plus one
unit. ``live_bytes`` is what is on the device now and ``peak_bytes`` the most it held.
"""

from __future__ import annotations

import logging

import torch

log = logging.getLogger(__name__)

__all__ = ["BlockStream", "split_units"]


def _own_bytes(module: torch.nn.Module) -> int:
    tensors = [*module.parameters(recurse=False), *module.buffers(recurse=False)]
    return sum(t.numel() * t.element_size() for t in tensors)


def _bytes(module: torch.nn.Module) -> int:
    return sum(t.numel() * t.element_size() for t in [*module.parameters(), *module.buffers()])


def split_units(module: torch.nn.Module, limit: int) -> tuple[list[torch.nn.Module], list[torch.nn.Module]]:
    """(units, ancestors): submodules of at most ``limit`` bytes that together hold every weight
    below the ancestors, and the modules cut open on the way (their own weights are the remainder)."""
    units: list[torch.nn.Module] = []
    ancestors = [module]
    stack = list(module.children())[::-1]
    while stack:
        child = stack.pop()
        size = _bytes(child)
        if size == 0:
            continue
        if size <= limit or not list(child.children()):
            if size > limit:
                log.warning(
                    "lowvram: %s holds %d bytes in one piece, over the %d-byte budget",
                    type(child).__name__,
                    size,
                    limit,
                )
            units.append(child)
        else:
            ancestors.append(child)
            stack.extend(list(child.children())[::-1])
    return units, ancestors


def _move_own(module: torch.nn.Module, device: torch.device) -> None:
    """Move a module's own parameters and buffers (not its children's)."""
    for param in module.parameters(recurse=False):
        param.data = param.data.to(device)
    for name, buffer in list(module.named_buffers(recurse=False)):
        module._buffers[name] = buffer.to(device)


class BlockStream:
    """A module placed block by block (see the module docstring); ``close()`` takes it off the device."""

    def __init__(self, module: torch.nn.Module, device: torch.device, offload: torch.device, budget: int) -> None:
        self.module, self.device, self.offload = module, device, offload
        remainder_guess = _own_bytes(module)
        self.units, self.ancestors = split_units(module, max(budget - remainder_guess, 1))
        self.remainder = sum(_own_bytes(m) for m in self.ancestors)
        for ancestor in self.ancestors:
            _move_own(ancestor, device)
        self.live_bytes = self.peak_bytes = self.remainder
        self._hooks = []
        for unit in self.units:
            size = _bytes(unit)
            self._hooks.append(unit.register_forward_pre_hook(self._arrive(size)))
            self._hooks.append(unit.register_forward_hook(self._leave(size)))

    def _arrive(self, size: int):
        def hook(unit, args):
            unit.to(self.device)
            self.live_bytes += size
            self.peak_bytes = max(self.peak_bytes, self.live_bytes)

        return hook

    def _leave(self, size: int):
        def hook(unit, args, output):
            unit.to(self.offload)
            self.live_bytes -= size

        return hook

    def close(self) -> None:
        for handle in self._hooks:
            handle.remove()
        self._hooks = []
        self.module.to(self.offload)
        self.live_bytes = 0
