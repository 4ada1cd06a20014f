"""ComfyUI's ``comfy.cli_args`` for custom-node packs: ``args``, a Namespace under ComfyUI's flag
names. Values NodeFlow knows follow the bound runtime (folders, --cpu, --lowvram, the dtype flags
--force-fp32/--force-fp16/--bf16-unet/--fp32-vae/... and --force-channels-last,
the server's listen address and port); the rest hold ComfyUI's defaults. Packs may read and
change it (``args.fast.add(...)``), as in ComfyUI.
"""

from __future__ import annotations

import argparse
import enum

from nodeflow.comfy_compat import binding, missing

DTYPE_NAMES = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}
FLAG_KINDS = {"unet": "unet", "vae": "vae", "text": "text_enc"}  # ModelManager kind -> ComfyUI's flag suffix


class LatentPreviewMethod(enum.Enum):
    NoPreviews = "none"
    Auto = "auto"
    Latent2RGB = "latent2rgb"
    TAESD = "taesd"


class PerformanceFeature(enum.Enum):
    Fp16Accumulation = "fp16_accumulation"
    Fp8MatrixMultiplication = "fp8_matrix_mult"
    CublasOps = "cublas_ops"
    AutoTune = "autotune"


DEFAULTS: dict = {
    "listen": "127.0.0.1",
    "port": 8188,
    "tls_keyfile": None,
    "tls_certfile": None,
    "enable_cors_header": None,
    "max_upload_size": 100.0,
    "base_directory": None,
    "extra_model_paths_config": None,
    "output_directory": None,
    "temp_directory": None,
    "input_directory": None,
    "user_directory": None,
    "auto_launch": False,
    "disable_auto_launch": False,
    "cuda_device": None,
    "cuda_malloc": True,
    "disable_cuda_malloc": False,
    "force_fp32": False,
    "force_fp16": False,
    "fp32_unet": False,
    "fp64_unet": False,
    "bf16_unet": False,
    "fp16_unet": False,
    "fp8_e4m3fn_unet": False,
    "fp8_e5m2_unet": False,
    "fp8_e8m0fnu_unet": False,
    "fp16_vae": False,
    "fp32_vae": False,
    "bf16_vae": False,
    "cpu_vae": False,
    "fp8_e4m3fn_text_enc": False,
    "fp8_e5m2_text_enc": False,
    "fp16_text_enc": False,
    "fp32_text_enc": False,
    "bf16_text_enc": False,
    "force_channels_last": False,
    "directml": None,
    "oneapi_device_selector": None,
    "disable_ipex_optimize": False,
    "supports_fp8_compute": False,
    "preview_method": LatentPreviewMethod.Auto,
    "preview_size": 512,
    "cache_classic": False,
    "cache_lru": 0,
    "cache_ram": 0.0,
    "cache_none": False,
    "use_split_cross_attention": False,
    "use_quad_cross_attention": False,
    "use_pytorch_cross_attention": False,
    "use_sage_attention": False,
    "use_flash_attention": False,
    "disable_xformers": True,
    "force_upcast_attention": False,
    "dont_upcast_attention": False,
    "gpu_only": False,
    "highvram": False,
    "normalvram": False,
    "lowvram": False,
    "novram": False,
    "cpu": False,
    "reserve_vram": None,
    "async_offload": False,
    "default_hashing_function": "sha256",
    "disable_smart_memory": False,
    "deterministic": False,
    "dont_print_server": False,
    "quick_test_for_ci": False,
    "windows_standalone_build": False,
    "disable_metadata": False,
    "disable_all_custom_nodes": False,
    "whitelist_custom_nodes": [],
    "disable_api_nodes": False,
    "multi_user": False,
    "verbose": "INFO",
    "log_stdout": False,
    "front_end_version": "comfyanonymous/ComfyUI@latest",
    "front_end_root": None,
    "enable_compress_response_body": False,
    "comfy_api_base": "https://api.comfy.org",
    "database_url": None,
    "enable_manager": False,
}

args = argparse.Namespace(**DEFAULTS, fast=set())


def _refresh(bound: binding.Bound) -> None:
    """What NodeFlow knows, under ComfyUI's names."""
    env = bound.env
    if env is not None:
        args.base_directory = str(env.base)
        args.output_directory, args.input_directory = str(env.output_dir), str(env.input_dir)
        args.temp_directory, args.user_directory = str(env.temp_dir), str(env.user_dir)
    models = bound.models
    if models is not None:
        args.cpu = models.device.type == "cpu"
        args.lowvram = bool(getattr(models, "lowvram", False))
        for name, value in precision_flags(models).items():
            setattr(args, name, value)
    for name, value in bound.cli.items():
        setattr(args, name, value)


def precision_flags(models) -> dict[str, bool]:
    """ComfyUI's dtype booleans as the bound model manager was set (``--bf16-unet``, ``--force-fp32``, ...)."""
    out = {f"{dt}_{suffix}": False for suffix in FLAG_KINDS.values() for dt in DTYPE_NAMES.values()}
    for kind, dtype in (getattr(models, "dtypes", None) or {}).items():
        name = DTYPE_NAMES.get(str(dtype).removeprefix("torch."))
        if name and kind in FLAG_KINDS:
            out[f"{name}_{FLAG_KINDS[kind]}"] = True
    force = DTYPE_NAMES.get(str(getattr(models, "force_dtype", None)).removeprefix("torch."))
    out.update(force_fp32=force == "fp32", force_fp16=force == "fp16")
    out["force_channels_last"] = bool(getattr(models, "channels_last", False))
    return out


binding.on_bind(_refresh)

__getattr__ = missing("comfy.cli_args")
