"""ComfyUI's ``comfy.model_management`` for custom-node packs, over NodeFlow's model manager.

Devices and dtypes come from the bound ``ModelManager`` (``--cpu``, ``--force-fp16`` ...). NodeFlow
places weights itself while a model runs (``ModelManager.use``), so the explicit loading calls
(``load_models_gpu`` ...) have nothing to do. Interrupts are the running prompt's: raising
``InterruptProcessingException`` in a node ends the prompt as interrupted, not as an error.
"""

from __future__ import annotations

import gc
import os
from enum import Enum
from typing import Any

import torch

from nodeflow.comfy_compat import binding, missing
from nodeflow.engine.context import Interrupted, current_context


class InterruptProcessingException(Interrupted):
    """The user interrupted the prompt (POST /interrupt)."""


class VRAMState(Enum):
    DISABLED = 0
    NO_VRAM = 1
    LOW_VRAM = 2
    NORMAL_VRAM = 3
    HIGH_VRAM = 4
    SHARED = 5


class CPUState(Enum):
    GPU = 0
    CPU = 1
    MPS = 2


OOM_EXCEPTION = torch.cuda.OutOfMemoryError
DISABLE_SMART_MEMORY = False
XFORMERS_IS_AVAILABLE = False
XFORMERS_ENABLED_VAE = False


def _manager() -> Any:
    return binding.bound().models


def get_torch_device() -> torch.device:
    manager = _manager()
    if manager is not None:
        return manager.device
    from nodeflow.models.manager import pick_device

    return pick_device()


def _state() -> tuple[VRAMState, CPUState]:
    device, manager = get_torch_device(), _manager()
    if device.type == "cpu":
        return VRAMState.DISABLED, CPUState.CPU
    if device.type == "mps":
        return VRAMState.SHARED, CPUState.MPS
    return (VRAMState.LOW_VRAM if getattr(manager, "lowvram", False) else VRAMState.NORMAL_VRAM), CPUState.GPU


def intermediate_device() -> torch.device:
    return torch.device("cpu")


def unet_offload_device() -> torch.device:
    manager = _manager()
    return manager.offload_device if manager is not None else torch.device("cpu")


text_encoder_offload_device = unet_offload_device
vae_offload_device = unet_offload_device


def unet_inital_load_device(parameters: int = 0, dtype: Any = None) -> torch.device:
    return unet_offload_device()


def text_encoder_device() -> torch.device:
    manager = _manager()
    if manager is not None and hasattr(manager, "text_encoder_device"):
        return manager.text_encoder_device()  # the CPU with --lowvram, as ComfyUI's
    return get_torch_device()


def vae_device() -> torch.device:
    return get_torch_device()


def _dtype(kind: str) -> torch.dtype:
    manager = _manager()
    return manager.dtype(kind) if manager is not None else torch.float32


def unet_dtype(
    device: Any = None, model_params: int = 0, supported_dtypes: Any = None, weight_dtype: Any = None
) -> torch.dtype:
    chosen = _dtype("unet")
    if supported_dtypes and chosen not in supported_dtypes:
        return torch.float32 if torch.float32 in supported_dtypes else supported_dtypes[0]
    return chosen


def unet_manual_cast(weight_dtype: torch.dtype, inference_device: Any, supported_dtypes: Any = None) -> Any:
    """None when weights of ``weight_dtype`` can be used directly, else the dtype to compute in."""
    if weight_dtype in (torch.float32, torch.float64):
        return None
    device = torch.device(inference_device) if inference_device is not None else get_torch_device()
    if device.type == "cpu":
        return torch.float32
    if weight_dtype == torch.bfloat16 and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return torch.float32
    return None if weight_dtype in (torch.float16, torch.bfloat16) else _dtype("unet")


def text_encoder_dtype(device: Any = None) -> torch.dtype:
    return _dtype("text")


def vae_dtype(device: Any = None, allowed_dtypes: Any = ()) -> torch.dtype:
    return _dtype("vae")


def should_use_fp16(
    device: Any = None, model_params: int = 0, prioritize_performance: bool = True, manual_cast: bool = False
) -> bool:
    return _dtype("unet") == torch.float16


def should_use_bf16(
    device: Any = None, model_params: int = 0, prioritize_performance: bool = True, manual_cast: bool = False
) -> bool:
    return _dtype("unet") == torch.bfloat16


def is_device_type(device: Any, kind: str) -> bool:
    return getattr(device, "type", None) == kind


def is_device_mps(device: Any) -> bool:
    return is_device_type(device, "mps")


def is_device_cpu(device: Any) -> bool:
    return is_device_type(device, "cpu")


def is_device_cuda(device: Any) -> bool:
    return is_device_type(device, "cuda")


def is_intel_xpu() -> bool:
    return get_torch_device().type == "xpu"


def is_directml_enabled() -> bool:
    return False


def is_nvidia() -> bool:
    return get_torch_device().type == "cuda" and torch.version.cuda is not None


def is_amd() -> bool:
    return get_torch_device().type == "cuda" and torch.version.hip is not None


def xformers_enabled() -> bool:
    return False


def xformers_enabled_vae() -> bool:
    return False


def pytorch_attention_enabled() -> bool:
    return True


def pytorch_attention_flash_attention() -> bool:
    return get_torch_device().type == "cuda"


def sage_attention_enabled() -> bool:
    return False


def flash_attention_enabled() -> bool:
    return False


def device_supports_non_blocking(device: Any) -> bool:
    return is_device_cuda(device)


def get_autocast_device(dev: Any) -> str:
    return getattr(dev, "type", "cuda")


def dtype_size(dtype: torch.dtype) -> int:
    return torch.empty((), dtype=dtype).element_size()


def cast_to_device(tensor: torch.Tensor, device: Any, dtype: Any, copy: bool = False) -> torch.Tensor:
    non_blocking = device_supports_non_blocking(torch.device(device)) if device is not None else False
    return tensor.to(device=device, dtype=dtype, non_blocking=non_blocking, copy=copy)


def module_size(module: torch.nn.Module) -> int:
    return sum(t.numel() * t.element_size() for t in module.state_dict().values())


def _available_ram() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def get_total_memory(dev: Any = None, torch_total_too: bool = False) -> Any:
    dev = dev or get_torch_device()
    if getattr(dev, "type", "cpu") == "cuda":
        total = torch.cuda.mem_get_info(dev)[1]
        reserved = torch.cuda.memory_reserved(dev)
    else:
        total, reserved = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), 0
    return (total, reserved) if torch_total_too else total


def get_free_memory(dev: Any = None, torch_free_too: bool = False) -> Any:
    """Free bytes on ``dev`` (the compute device by default); on the CPU, the available RAM."""
    dev = dev or get_torch_device()
    if getattr(dev, "type", "cpu") == "cuda":
        free = torch.cuda.mem_get_info(dev)[0]
        in_cache = torch.cuda.memory_reserved(dev) - torch.cuda.memory_allocated(dev)
        return (free + in_cache, in_cache) if torch_free_too else free + in_cache
    free = _available_ram()
    return (free, 0) if torch_free_too else free


def soft_empty_cache(force: bool = False) -> None:
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.ipc_collect()
    elif hasattr(torch, "mps") and torch.backends.mps.is_available():
        torch.mps.empty_cache()


def unload_all_models() -> None:
    """Drop every cached model (as POST /free with unload_models)."""
    manager = _manager()
    if manager is not None:
        manager.free()
    soft_empty_cache()


def free_memory(memory_required: int, device: Any, keep_loaded: Any = ()) -> list:
    """Make ``memory_required`` bytes free on ``device``: unloads every cached model when short."""
    if get_free_memory(device) < memory_required:
        unload_all_models()
    gc.collect()
    return []


def load_models_gpu(
    models: Any,
    memory_required: int = 0,
    force_patch_weights: bool = False,
    minimum_memory_required: Any = None,
    force_full_load: bool = False,
) -> None:
    """Nothing to do: NodeFlow puts a model's weights on the device while it runs."""
    if memory_required:
        free_memory(memory_required, get_torch_device())


def load_model_gpu(model: Any) -> None:
    load_models_gpu([model])


def loaded_models(only_currently_used: bool = False) -> list:
    """NodeFlow's manager keeps no ComfyUI ModelPatchers: none to list."""
    return []


def cleanup_models(keep_clone_weights_loaded: bool = False) -> None:
    gc.collect()


def cleanup_models_gc() -> None:
    gc.collect()


def processing_interrupted() -> bool:
    ctx = current_context()
    return ctx is not None and ctx.is_interrupted()


def interrupt_current_processing(value: bool = True) -> None:
    """Request (or with False withdraw) an interrupt of the running prompt; also from outside a
    node (a pack's "stop" route), through the server's worker."""
    ctx = current_context()
    if ctx is not None:
        ctx.request_interrupt(value)
        return
    from nodeflow.comfy_compat.server_binding import attached
    from nodeflow.server.keys import WORKER

    app = attached().app
    worker = app.get(WORKER) if app is not None else None
    if value and worker is not None:
        worker.interrupt_prompt()


def throw_exception_if_processing_interrupted() -> None:
    """Raise ``InterruptProcessingException`` when the running prompt was interrupted."""
    if processing_interrupted():
        raise InterruptProcessingException(f"interrupted while running node {current_context().node_id}")


def __getattr__(name: str) -> Any:  # module attributes that follow the bound manager
    if name == "vram_state":
        return _state()[0]
    if name == "cpu_state":
        return _state()[1]
    return missing("comfy.model_management")(name)
