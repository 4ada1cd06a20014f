"""The compute-precision choices of ``python main.py`` (ComfyUI's flag names) as plain data.

``add_flags`` declares the flags, ``from_args`` reads them into a ``Precision``, which crosses
process boundaries as a dict (``as_dict`` / ``from_dict``: a Ray worker computes like the embedded
worker) and becomes ``ModelManager`` keyword arguments (``manager_kwargs``). No torch import here:
the server's argument parser reads this module."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, fields
from typing import Any

DTYPES = ("fp32", "fp16", "bf16")  # flag spelling -> torch.float32 / float16 / bfloat16
TORCH_NAMES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}
# flag suffix -> (ModelManager kind, what the help text calls it)
KINDS = {
    "unet": ("unet", "the diffusion model (UNet/DiT)"),
    "vae": ("vae", "the VAE"),
    "text-enc": ("text", "the text encoders"),
}


@dataclass(frozen=True)
class Precision:
    """Per-kind dtype names (None: the device's default), ``force`` (--force-fp32 / --force-fp16:
    every kind but an fp16 VAE), and the two CPU/GPU layout modes."""

    unet: str | None = None
    vae: str | None = None
    text: str | None = None
    force: str | None = None
    channels_last: bool = False
    int8_linear: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> Precision:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def manager_kwargs(self) -> dict[str, Any]:
        """``ModelManager(**precision.manager_kwargs())``."""
        import torch

        def dtype(name: str | None):
            return getattr(torch, TORCH_NAMES[name]) if name else None

        chosen = {kind: dtype(getattr(self, kind)) for kind, _ in KINDS.values() if getattr(self, kind)}
        return {
            "force_dtype": dtype(self.force),
            "dtypes": chosen,
            "channels_last": self.channels_last,
            "int8_linear": self.int8_linear,
        }


def add_flags(p: argparse.ArgumentParser) -> None:
    """ComfyUI's precision flags (one mutually exclusive group per kind) plus --int8-linear."""
    force = p.add_mutually_exclusive_group()
    force.add_argument("--force-fp32", action="store_true", help="compute every model in fp32")
    force.add_argument(
        "--force-fp16",
        action="store_true",
        help="keep the diffusion model and text encoders in fp16 (half the memory; the VAE stays fp32)",
    )
    for suffix, (_, what) in KINDS.items():
        group = p.add_mutually_exclusive_group()
        for dt in DTYPES:
            group.add_argument(
                f"--{dt}-{suffix}", action="store_true", help=f"store and compute {what} in {dt} (overrides --force-*)"
            )
    p.add_argument(
        "--force-channels-last",
        action="store_true",
        help="put the diffusion model's weights in channels_last memory format (faster convolutions on some devices)",
    )
    p.add_argument(
        "--int8-linear",
        action="store_true",
        help="NodeFlow only (no ComfyUI equivalent): dynamic int8 for the diffusion model's linear layers on the "
        "CPU (faster, not exact; LoRAs cannot be applied to such a model)",
    )


def from_args(args: argparse.Namespace) -> Precision:
    def chosen(suffix: str) -> str | None:
        return next((dt for dt in DTYPES if getattr(args, f"{dt}_{suffix.replace('-', '_')}", False)), None)

    force = "fp32" if getattr(args, "force_fp32", False) else "fp16" if getattr(args, "force_fp16", False) else None
    return Precision(
        **{kind: chosen(suffix) for suffix, (kind, _) in KINDS.items()},
        force=force,
        channels_last=bool(getattr(args, "force_channels_last", False)),
        int8_linear=bool(getattr(args, "int8_linear", False)),
    )
