"""Upscale models (ESRGAN, Real-ESRGAN, SwinIR, ...) loaded through spandrel.

Weights are read without ever running pickled code: ``.safetensors`` through safetensors,
``.pth/.pt/.ckpt/.bin`` only through ``torch.load(weights_only=True)``. spandrel then detects
the architecture from the state dict's keys and shapes and builds the network.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:  # spandrel (and torchvision, torch._dynamo under it) costs ~2.5 s: imported when a model loads
    from spandrel import ImageModelDescriptor

SAFETENSORS_EXTENSIONS = (".safetensors", ".sft")
PICKLE_EXTENSIONS = (".pth", ".pt", ".ckpt", ".bin")
# Keys under which training frameworks nest the actual state dict (BasicSR uses params_ema / params).
WRAPPER_KEYS = (
    "params_ema",
    "params-ema",
    "params",
    "state_dict",
    "model_state_dict",
    "model",
    "net",
    "generator",
    "netG",
)
PREFIXES = ("module.", "netG.")
SUPPORTED_EXAMPLES = (
    "ESRGAN / Real-ESRGAN (RRDBNet), Real-ESRGAN Compact (SRVGGNet), SwinIR, Swin2SR, HAT, DAT, OmniSR, SPAN, RealCUGAN"
)


def load_upscale_model(path: Path | str) -> ImageModelDescriptor:
    """Read ``path`` and return spandrel's ImageModelDescriptor (``.scale``, ``.supports_half``,
    ``.supports_bfloat16``, ``.model``) on the CPU in eval mode; ValueError naming the file and
    the fix when the file cannot be read safely or is not a supported upscale model."""
    from spandrel import ImageModelDescriptor, ModelLoader, UnsupportedModelError

    path = Path(path)
    state = normalise_state_dict(read_state_dict(path), path)
    try:
        descriptor = ModelLoader(device="cpu").load_from_state_dict(state)
    except UnsupportedModelError:
        raise ValueError(
            f"{path.name} is not a supported upscale model: its weights match no known "
            f"architecture. Supported architectures include {SUPPORTED_EXAMPLES}."
        ) from None
    except Exception as exc:  # detected, but the weights do not fit the architecture
        raise ValueError(
            f"{path.name} looks like an upscale model but could not be built "
            f"({type(exc).__name__}: {str(exc)[:200]}); the file may be damaged or a variant "
            f"that is not supported. Supported architectures include {SUPPORTED_EXAMPLES}."
        ) from None
    if not isinstance(descriptor, ImageModelDescriptor):
        raise ValueError(
            f"{path.name} is a {descriptor.architecture.name} model ({descriptor.purpose}), "
            f"not an image upscale model; use it with the matching node instead"
        )
    return descriptor.eval()


def read_state_dict(path: Path) -> Any:
    """The raw object stored in a weights file, read without executing pickled code."""
    suffix = path.suffix.lower()
    if suffix in SAFETENSORS_EXTENSIONS:
        return _read_safetensors(path)
    if suffix in PICKLE_EXTENSIONS:
        return _read_pickle_weights(path)
    raise ValueError(
        f"{path.name}: unsupported model file extension {path.suffix!r}; use .safetensors (preferred) or .pth"
    )


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except Exception as exc:  # SafetensorError, OSError, ... : truncated, random bytes, wrong header
        raise ValueError(
            f"{path.name} is not a valid .safetensors file ({str(exc)[:160]}); "
            f"the download may be incomplete or the file misnamed; download it again"
        ) from None


def _read_pickle_weights(path: Path) -> Any:
    try:
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        message = str(exc)
        if "Unsupported global" in message:
            what = message.split("Unsupported global:", 1)[1].split(" was not", 1)[0].strip()
            raise ValueError(
                f"{path.name} contains pickled code ({what[:120]}) and is refused: loading it "
                f"could run arbitrary code. Use a .safetensors version of this model."
            ) from None
        raise ValueError(
            f"{path.name} cannot be read as plain PyTorch weights: it is damaged, not a model file, "
            f"or contains pickled objects that are refused for safety. Use a .safetensors version "
            f"of this model."
        ) from None
    except Exception as exc:  # EOFError, KeyError, RuntimeError (bad zip), TorchScript archives, ...
        raise ValueError(
            f"{path.name} is not a readable PyTorch weights file ({type(exc).__name__}: "
            f"{str(exc)[:160]}); download it again or use a .safetensors version"
        ) from None


def normalise_state_dict(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    """Unwrap training-framework containers ({"params_ema": ...}, {"state_dict": ...}), strip
    "module." style prefixes and keep only tensors."""
    for _ in range(3):  # wrappers can nest: {"state_dict": {"params_ema": ...}}
        if not isinstance(obj, dict):
            break
        inner = next((obj[k] for k in WRAPPER_KEYS if isinstance(obj.get(k), dict)), None)
        if inner is None and len(obj) == 1 and isinstance(next(iter(obj.values())), dict):
            inner = next(iter(obj.values()))
        if inner is None:
            break
        obj = inner
    if not isinstance(obj, dict):
        raise ValueError(
            f"{path.name} does not hold a state dict (found {type(obj).__name__}); "
            f"it is not a supported upscale model. Supported architectures include "
            f"{SUPPORTED_EXAMPLES}."
        )
    state = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    for prefix in PREFIXES:
        if state and all(k.startswith(prefix) for k in state):
            state = {k[len(prefix) :]: v for k, v in state.items()}
    if not state:
        raise ValueError(
            f"{path.name} contains no weight tensors; it is not a supported upscale model. "
            f"Supported architectures include {SUPPORTED_EXAMPLES}."
        )
    return state
