"""comfy.controlnet for custom-node packs: the control-object base class (hint, strength, step
range, chaining), ``broadcast_image_to`` and ``load_controlnet``.

``load_controlnet`` returns NodeFlow's own control object (models/control_model.py), which the
sampler runs; ``ControlBase`` works as in ComfyUI for packs that build their own control objects
(NodeFlow's sampler does not call their ``get_control``: its UNet takes diffusers-style residuals)."""

from __future__ import annotations

import copy
import enum
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from nodeflow.comfy_compat import missing


class StrengthType(enum.Enum):
    CONSTANT = 1
    LINEAR_UP = 2


def broadcast_image_to(tensor: torch.Tensor, target_batch_size: int, batched_number: int) -> torch.Tensor:
    """A hint batch fitted to a model batch of ``target_batch_size`` made of ``batched_number``
    equal parts (cond and uncond): a single image is returned as is; otherwise the hint is cut or
    repeated to one part's size and then repeated for every part."""
    if tensor.shape[0] == 1:
        return tensor
    per_part = target_batch_size // batched_number
    tensor = tensor[:per_part]
    if per_part > tensor.shape[0]:
        whole, rest = divmod(per_part, tensor.shape[0])
        tensor = torch.cat([tensor] * whole + [tensor[:rest]], dim=0)
    if tensor.shape[0] == target_batch_size:
        return tensor
    return torch.cat([tensor] * batched_number, dim=0)


class ControlBase:
    """A control object: hint image, strength, the part of sampling it acts in, and the previous
    control object of a chain. Subclasses compute ``get_control``."""

    def __init__(self) -> None:
        self.cond_hint_original: torch.Tensor | None = None
        self.cond_hint: torch.Tensor | None = None
        self.strength = 1.0
        self.timestep_percent_range = (0.0, 1.0)
        self.timestep_range: tuple | None = None
        self.latent_format: Any = None
        self.vae: Any = None
        self.global_average_pooling = False
        self.compression_ratio = 8
        self.upscale_algorithm = "nearest-exact"
        self.extra_args: dict = {}
        self.previous_controlnet: ControlBase | None = None
        self.extra_conds: list = []
        self.strength_type = StrengthType.CONSTANT
        self.concat_mask = False
        self.extra_concat_orig: list = []
        self.extra_concat: Any = None
        self.extra_hooks: Any = None
        self.preprocess_image: Callable = lambda image: image

    def set_cond_hint(
        self,
        cond_hint: torch.Tensor,
        strength: float = 1.0,
        timestep_percent_range: tuple[float, float] = (0.0, 1.0),
        vae: Any = None,
        extra_concat: list | None = None,
    ) -> ControlBase:
        self.cond_hint_original, self.strength = cond_hint, strength
        self.timestep_percent_range, self.vae = timestep_percent_range, vae
        self.extra_concat_orig = list(extra_concat or [])
        if self.latent_format is not None and vae is None:
            raise ValueError("this control model needs a VAE: connect one to the Apply ControlNet node")
        return self

    def pre_run(self, model: Any, percent_to_timestep_function: Callable[[float], Any]) -> None:
        start, end = self.timestep_percent_range
        self.timestep_range = (percent_to_timestep_function(start), percent_to_timestep_function(end))
        if self.previous_controlnet is not None:
            self.previous_controlnet.pre_run(model, percent_to_timestep_function)

    def set_previous_controlnet(self, controlnet: ControlBase | None) -> ControlBase:
        self.previous_controlnet = controlnet
        return self

    def cleanup(self) -> None:
        if self.previous_controlnet is not None:
            self.previous_controlnet.cleanup()
        self.cond_hint = None
        self.extra_concat = None
        self.timestep_range = None

    def get_models(self) -> list:
        return self.previous_controlnet.get_models() if self.previous_controlnet is not None else []

    def get_extra_hooks(self) -> list:
        out = [self.extra_hooks] if self.extra_hooks is not None else []
        return out + (self.previous_controlnet.get_extra_hooks() if self.previous_controlnet is not None else [])

    def inference_memory_requirements(self, dtype: torch.dtype) -> int:
        previous = self.previous_controlnet
        return previous.inference_memory_requirements(dtype) if previous is not None else 0

    def copy_to(self, c: ControlBase) -> None:
        for name in (
            "cond_hint_original",
            "strength",
            "timestep_percent_range",
            "global_average_pooling",
            "compression_ratio",
            "upscale_algorithm",
            "latent_format",
            "extra_args",
            "vae",
            "extra_conds",
            "strength_type",
            "concat_mask",
            "extra_concat_orig",
            "extra_hooks",
            "preprocess_image",
        ):
            setattr(c, name, copy.copy(getattr(self, name)) if name == "extra_args" else getattr(self, name))

    def copy(self) -> ControlBase:
        """A copy with the same settings (the hint, strength, range...), not yet chained."""
        c = type(self).__new__(type(self))
        ControlBase.__init__(c)
        c.__dict__.update({k: v for k, v in self.__dict__.items() if k not in ControlBase().__dict__})
        self.copy_to(c)
        return c

    def control_merge(self, control: dict, control_prev: dict | None, output_dtype: torch.dtype | None) -> dict:
        """This object's residuals ({"input"|"middle"|"output": [tensor|None]}) times its strength,
        plus the previous object's."""
        out: dict[str, list] = {"input": [], "middle": [], "output": []}
        for key, values in control.items():
            for i, x in enumerate(values):
                if x is not None:
                    if self.global_average_pooling and key != "input":
                        x = x.mean(dim=(2, 3), keepdim=True).repeat(1, 1, *values[i].shape[2:])
                    x = (
                        x * self.strength
                        if self.strength_type == StrengthType.CONSTANT
                        else x * self.strength ** float(len(values) - i)
                    )
                    x = x.to(output_dtype) if output_dtype is not None else x
                out.setdefault(key, []).append(x)
        for key, values in (control_prev or {}).items():
            merged = out.setdefault(key, [])
            for i, prev in enumerate(values):
                if i >= len(merged):
                    merged.append(prev)
                elif prev is not None:
                    merged[i] = prev if merged[i] is None else merged[i] + prev
        return out

    def get_control(
        self,
        x_noisy: torch.Tensor,
        t: torch.Tensor,
        cond: dict,
        batched_number: int,
        transformer_options: dict | None = None,
    ) -> dict:
        raise NotImplementedError(f"{type(self).__name__}.get_control is not implemented")


def load_controlnet(ckpt_path: str, model: Any = None, model_options: dict | None = None) -> Any:
    """Load a ControlNet or T2I-Adapter file as NodeFlow's control object (the one the Load
    ControlNet node gives: ``copy``/``set_cond_hint``/``set_previous_controlnet`` as here), through
    the runtime's model manager; ``model`` completes a diff ControlNet. Control-LoRA and Union
    ControlNet files are refused with a message naming the kind."""
    from nodeflow.comfy_compat import binding
    from nodeflow.models.control_files import load_control_file
    from nodeflow.nodes.model_files import file_identity

    path = Path(ckpt_path)
    if not path.is_file():
        raise FileNotFoundError(f"load_controlnet: {ckpt_path} does not exist")
    manager = getattr(binding.node_context(), "models", None)
    if manager is None or model is not None:
        return load_control_file(path, manager, model)
    return manager.load(("controlnet", *file_identity(path)), lambda: load_control_file(path, manager))


__getattr__ = missing("comfy.controlnet")
