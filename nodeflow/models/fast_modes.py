"""Opt-in fast modes applied to a loaded module by ``ModelManager.prepare``: channels_last memory
format (--force-channels-last) and dynamic int8 linear layers on the CPU (--int8-linear).

--int8-linear uses torch's own dynamic quantization (``torch.ao.quantization.quantize_dynamic``:
fbgemm/oneDNN int8 GEMMs, weights quantized per layer once, activations per call). torch marks that
API deprecated in favour of torchao, whose dynamic int8 runs ~12x slower than fp32 in eager mode on
a CPU (it needs torch.compile); when a torch without it comes, the flag says so at start."""

from __future__ import annotations

import warnings

import torch

PREPARED = "nodeflow_prepared"  # set on a module once prepare() has run on it
INT8 = "nodeflow_int8_linear"  # set on a module whose nn.Linear layers are dynamic int8


def int8_quantizer():
    """torch's dynamic quantizer, or None where this torch no longer has it."""
    try:
        from torch.ao.quantization import quantize_dynamic
    except ImportError:
        return None
    return quantize_dynamic


def check_modes(manager) -> None:
    """Refuse combinations that cannot run, naming the flag to change."""
    if not manager.int8_linear:
        return
    if manager.device.type != "cpu":
        raise ValueError(
            f"--int8-linear runs on the CPU only and NodeFlow computes on {manager.device}; add --cpu or drop --int8-linear"
        )
    if manager.dtype("unet") != torch.float32:
        raise ValueError(
            f"--int8-linear computes in fp32 but the diffusion model is set to {manager.dtype('unet')}; "
            "drop --int8-linear or the --fp16-unet/--bf16-unet/--force-fp16 flag"
        )
    if int8_quantizer() is None:
        raise ValueError(
            f"--int8-linear needs torch.ao.quantization.quantize_dynamic, which torch {torch.__version__} "
            "no longer has; drop --int8-linear"
        )


def prepare_module(manager, module: torch.nn.Module, kind: str) -> torch.nn.Module:
    if kind != "unet" or not isinstance(module, torch.nn.Module) or getattr(module, PREPARED, False):
        return module
    if manager.channels_last:
        module.to(memory_format=torch.channels_last)  # 4-D weights only; in place
    if manager.int8_linear and manager.device.type == "cpu":
        with warnings.catch_warnings():  # torch's notice that this API moves to torchao (see above)
            warnings.filterwarnings("ignore", message=".*quantiz", category=DeprecationWarning)
            warnings.filterwarnings("ignore", message=".*quantiz", category=UserWarning)
            as_torch_linears(module)
            int8_quantizer()(module, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
        setattr(module, INT8, True)
    setattr(module, PREPARED, True)
    return module


def as_torch_linears(module: torch.nn.Module) -> None:
    """NodeFlow's oneDNN linear layers (kernels.py) back to ``nn.Linear``, which torch's quantizer maps by
    exact type (same parameters; the cross-attention context projections keep their memo, in fp32)."""
    from .fast_linear import OneDNNLinear

    for sub in module.modules():
        if type(sub) is OneDNNLinear:
            sub.__class__ = torch.nn.Linear


def require_float_weights(
    module: torch.nn.Module, why: str = "LoRAs and other weight patches cannot be applied to it"
) -> None:
    """LoRAs, weight patches and checkpoint saving need float weights; int8 linear layers have none."""
    if getattr(module, INT8, False):
        raise ValueError(
            f"this model's linear layers are int8 (--int8-linear), so {why}; "
            "restart NodeFlow without --int8-linear to do that"
        )
