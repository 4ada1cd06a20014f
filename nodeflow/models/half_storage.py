"""16-bit weights kept as the file stores them while the model computes in fp32 (CPU default).

SD1.5 and SDXL checkpoints ship fp16 (Flux bf16) weights; computing in fp32 used to mean widening
every weight to fp32 at load: twice the memory, twice the pages to fault in on a cold start, and twice
the bytes to read per step, which is what a UNet at small latents waits for. A 16-bit value widens to
fp32 exactly, so conv and linear weights stay in their 16 bits and are widened where they are used:
in registers by NodeFlow's kernel for layers that see few rows (``native/half_gemm.cpp``), or into a
reused fp32 scratch buffer before torch's kernels for the others (big feature maps, long prompts).
The numbers are the fp32 model's up to summation order, like the other kernels of ``kernels.py``.

Biases, norms and every other tensor are fp32. Only CPU fp32 models with NodeFlow's kernels store
weights this way, and only when the native kernel is built (``native/half_gemm.py``); otherwise a
model loads as before. A LoRA patch widens the weights it touches to fp32 (``patching.py``)."""

from __future__ import annotations

import threading

import torch

HALF = (torch.float16, torch.bfloat16)
COMPUTE_ATTR = "nodeflow_compute_dtype"  # also set by fp8 storage: the dtype the network computes in
STORED_ATTR = "_nodeflow_16bit"  # {parameter name: its 16-bit dtype} of a settled module
NATIVE_ROWS = 80  # rows per call up to which the native kernel beats widening + oneDNN (bench/half_kernels.py)


def wanted(manager, kind: str = "unet") -> bool:
    """Whether a ``kind`` module loaded by ``manager`` keeps 16-bit conv/linear weights."""
    if manager is None or manager.device.type != "cpu" or manager.dtype(kind) != torch.float32:
        return False
    if manager.plain_kernels or manager.channels_last or (manager.int8_linear and kind == "unet"):
        return False
    from .native import half_gemm

    return half_gemm.kernel() is not None


def keep_stored(dtype_for, prefixes: tuple[str, ...]):
    """``dtype_for`` of ``stream_state_dict`` that keeps 16-bit tensors under ``prefixes`` as stored
    (``settle`` widens those that are not conv/linear weights)."""

    def choose(name: str, stored: torch.dtype) -> torch.dtype | None:
        if stored in HALF and name.startswith(prefixes):
            return None
        return dtype_for(name, stored)

    return choose


def settle(module: torch.nn.Module, compute: torch.dtype = torch.float32) -> int:
    """Every tensor of ``module`` to ``compute`` except 16-bit conv/linear weights, which stay (made
    contiguous); marks the module's compute dtype. Returns how many weights stay 16-bit."""
    stored = {}
    for prefix, sub in module.named_modules():
        for name, param in list(sub.named_parameters(recurse=False)):
            eligible = name == "weight" and isinstance(sub, (torch.nn.Linear, torch.nn.Conv2d))
            if eligible and param.dtype in HALF and param.device.type == "cpu":
                if not param.is_contiguous():
                    param.data = param.data.contiguous()
                stored[f"{prefix}.{name}" if prefix else name] = param.dtype
            elif param.is_floating_point() and param.dtype != compute:
                param.data = param.data.to(compute)
        for name, buf in list(sub.named_buffers(recurse=False)):
            if buf.is_floating_point() and buf.dtype != compute:
                setattr(sub, name, buf.to(compute))
    setattr(module, COMPUTE_ATTR, compute)
    setattr(module, STORED_ATTR, stored)
    return len(stored)


def widen_all(module: torch.nn.Module) -> None:
    """Every 16-bit stored weight to the compute dtype (torch's own kernels, ``--plain-kernels``)."""
    compute = getattr(module, COMPUTE_ATTR, None)
    for name in getattr(module, STORED_ATTR, {}):
        param = module.get_parameter(name)
        if param.dtype in HALF and compute is not None:
            param.data = param.data.to(compute)


def narrow_back(module: torch.nn.Module) -> None:
    """Undo ``widen_all``: the weights that were 16-bit and still hold 16-bit values go back to it
    (a weight a LoRA patch changed stays wide)."""
    for name, dtype in getattr(module, STORED_ATTR, {}).items():
        param = module.get_parameter(name)
        if param.dtype not in HALF and param.device.type == "cpu":
            narrow = param.data.to(dtype)
            if torch.equal(narrow.to(param.dtype), param.data):
                param.data = narrow


def widens_to(module: torch.nn.Module, tensor: torch.Tensor) -> torch.dtype | None:
    """The compute dtype a 16-bit stored ``tensor`` of ``module`` stands for, or None when it is not one
    (fp8 storage also marks a compute dtype: its tensors are not 16-bit)."""
    compute = getattr(module, COMPUTE_ATTR, None)
    if tensor.dtype in HALF and compute is not None and compute not in HALF:
        return compute
    return None


def compute_dtype(module: torch.nn.Module) -> torch.dtype:
    """The dtype ``module`` computes in: marked by ``settle`` (or fp8 storage), else its first parameter's."""
    marked = getattr(module, COMPUTE_ATTR, None)
    return marked if marked is not None else next(module.parameters()).dtype


_scratch = threading.local()


def widened(weight: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``weight.to(dtype)`` in a buffer reused by the next call on this thread (no fresh pages per
    layer); valid until then. Off the CPU, with autograd on (it would keep the buffer for the backward
    pass) or under torch.compile, a plain copy."""
    if weight.dtype == dtype:
        return weight
    if weight.device.type != "cpu" or torch.compiler.is_compiling() or torch.is_grad_enabled():
        return weight.to(dtype)
    buf = getattr(_scratch, "buf", None)
    if buf is None or buf.numel() < weight.numel() or buf.dtype != dtype:
        buf = _scratch.buf = torch.empty(weight.numel(), dtype=dtype)
    out = buf[: weight.numel()].view(weight.shape)
    out.copy_(weight)
    return out
