"""The CONTROL_NET socket's object: a ControlNet or T2I-Adapter network with, once applied to a
conditioning, its hint image, strength, step range and the previous control of a chain.

Apply nodes put it in the conditioning dict as ``"control"``; the guider asks it, at every
network call, for the residuals the UNet adds (``residuals``), which walks the chain: each
control inside its step range adds its own residuals times its strength to those of the controls
before it. The method names are ComfyUI's (``copy``, ``set_cond_hint``, ``set_previous_controlnet``,
``previous_controlnet``, ``strength``, ``timestep_percent_range``, ``cond_hint_original``,
``get_models``), so custom-node packs that chain controls the ComfyUI way work on it."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from nodeflow.imaging.convert import crop_to_aspect

from .control_layouts import ControlLayout
from .half_storage import compute_dtype

LATENT_TO_PIXELS = 8  # the hint is at pixel size: 8x the latent


@dataclass
class ControlResiduals:
    """What the UNet adds: ControlNet residuals (one per skip connection of the encoder, and the
    mid block's), T2I-Adapter features (added inside the down blocks)."""

    down: list[torch.Tensor] | None = None
    mid: torch.Tensor | None = None
    intrablock: list[torch.Tensor] | None = None

    def __add__(self, other: ControlResiduals | None) -> ControlResiduals:
        if other is None:
            return self

        def add(a, b):
            if a is None or b is None:
                return a if b is None else b
            if isinstance(a, list):
                return [x + y for x, y in zip(a, b, strict=False)]
            return a + b

        return ControlResiduals(
            add(self.down, other.down), add(self.mid, other.mid), add(self.intrablock, other.intrablock)
        )

    def unet_kwargs(self, device: torch.device, dtype: torch.dtype) -> dict:
        """Keyword arguments of diffusers' UNet2DConditionModel.forward."""

        def to(t):
            return t.to(device=device, dtype=dtype)

        out = {}
        if self.down is not None:
            out["down_block_additional_residuals"] = tuple(to(t) for t in self.down)
            out["mid_block_additional_residual"] = to(self.mid)
        if self.intrablock is not None:
            out["down_intrablock_additional_residuals"] = [to(t) for t in self.intrablock]
        return out


def fit_batch(tensor: torch.Tensor, batch: int, parts: int) -> torch.Tensor:
    """A hint (or features) batch fitted to a network batch of ``batch`` made of ``parts`` equal
    parts (cond and uncond side by side): cut or repeated to one part, then repeated per part."""
    if tensor.shape[0] == batch:
        return tensor
    per_part = max(1, batch // parts)
    tensor = tensor[:per_part]
    tensor = tensor.repeat(math.ceil(per_part / tensor.shape[0]), *([1] * (tensor.dim() - 1)))[:per_part]
    return tensor.repeat(batch // per_part, *([1] * (tensor.dim() - 1)))


def resize_hint(hint: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """[B,C,H,W] hint to height x width: centre crop to the aspect ratio, then nearest-exact."""
    if tuple(hint.shape[-2:]) == (height, width):
        return hint
    return F.interpolate(crop_to_aspect(hint, width, height), size=(height, width), mode="nearest-exact")


def _base(family) -> str:
    return family.base or family.name


class ControlNet:
    """A ControlNet or T2I-Adapter (``layout.kind``) and, once applied, its settings."""

    def __init__(self, network: torch.nn.Module, layout: ControlLayout, manager: Any = None, source: str = "") -> None:
        self.network, self.layout, self.manager, self.source = network, layout, manager, source
        self.cond_hint_original: torch.Tensor | None = None  # [B,C,H,W] in 0..1, as the IMAGE came
        self.strength = 1.0
        self.timestep_percent_range = (0.0, 1.0)
        self.previous_controlnet: ControlNet | None = None
        self.extra_args: dict = {}  # ComfyUI's (SetUnionControlNetType's control_type); single-purpose nets ignore it
        self._cache: dict = {}  # the hint at one size (and a T2I-Adapter's features of it)

    # ComfyUI's control-object interface ---------------------------------------------------------
    def copy(self) -> ControlNet:
        """The same network with this object's settings, not chained."""
        c = ControlNet(self.network, self.layout, self.manager, self.source)
        c.cond_hint_original, c.strength = self.cond_hint_original, self.strength
        c.timestep_percent_range = self.timestep_percent_range
        c.extra_args = dict(self.extra_args)
        return c

    def set_extra_arg(self, argument: str, value: Any = None) -> None:
        self.extra_args[argument] = value

    def set_cond_hint(
        self,
        cond_hint: torch.Tensor,
        strength: float = 1.0,
        timestep_percent_range: tuple[float, float] = (0.0, 1.0),
        vae: Any = None,
        extra_concat: list | None = None,
    ) -> ControlNet:
        if cond_hint.dim() != 4:
            raise ValueError(f"a control hint must be [batch, channels, height, width], got {list(cond_hint.shape)}")
        self.cond_hint_original, self.strength = cond_hint, float(strength)
        self.timestep_percent_range = (float(timestep_percent_range[0]), float(timestep_percent_range[1]))
        self._cache = {}
        return self

    def set_previous_controlnet(self, controlnet: ControlNet | None) -> ControlNet:
        self.previous_controlnet = controlnet
        return self

    def get_models(self) -> list[torch.nn.Module]:
        earlier = self.previous_controlnet.get_models() if self.previous_controlnet is not None else []
        return [*earlier, self.network]

    # what it is ---------------------------------------------------------------------------------
    @property
    def family(self):
        return self.layout.family

    @property
    def label(self) -> str:
        what = "T2I-Adapter" if self.layout.kind == "t2i_adapter" else "ControlNet"
        return f"{what} {self.source!r}" if self.source else what

    def memory_bytes(self) -> int:
        return sum(p.numel() * p.element_size() for p in self.network.parameters())

    def check_model(self, model: Any) -> None:
        """Raise a ValueError naming the fix when this control (or one before it) cannot guide ``model``."""
        if self.previous_controlnet is not None:
            self.previous_controlnet.check_model(model)
        family = model.family
        if _base(family) != self.family.name:
            raise ValueError(
                f"{self.label} was made for {self.family.label} models but the model is "
                f"{family.label}: load a {self.label.split()[0]} made for {family.label}"
            )
        unet = getattr(getattr(getattr(model, "unet", None), "module", None), "config", None)
        if unet is None:
            return
        widths = tuple(unet.block_out_channels)
        if self.layout.kind == "controlnet":
            mine = (tuple(self.layout.config["block_out_channels"]), self.layout.config["cross_attention_dim"])
            if mine != (widths, unet.cross_attention_dim):
                raise ValueError(
                    f"{self.label} has block widths {mine[0]} and text width {mine[1]} but the model's "
                    f"UNet has {widths} and {unet.cross_attention_dim}: they are not the same architecture"
                )
        elif self.layout.config["adapter_type"] == "full_adapter" and tuple(self.layout.config["channels"]) != widths:
            raise ValueError(
                f"{self.label} makes features of widths {tuple(self.layout.config['channels'])} but the "
                f"model's UNet has blocks of widths {widths}"
            )

    # sampling -----------------------------------------------------------------------------------
    def active(self, model: Any, sigma: float) -> bool:
        start, end = self.timestep_percent_range
        schedule = model.schedule
        high = schedule.percent_to_sigma(start) if start > 0 else math.inf
        low = schedule.percent_to_sigma(end) if end < 1 else 0.0
        return low <= sigma <= high

    def residuals(
        self,
        model: Any,
        x_in: torch.Tensor,
        timestep: torch.Tensor,
        sigma: float,
        context: torch.Tensor,
        y: dict | None,
        parts: int,
    ) -> ControlResiduals | None:
        """The residuals of the chain ending here for one network call (None when no control of
        the chain acts at ``sigma``). ``x_in``/``timestep`` are what the UNet receives; the batch
        holds ``parts`` equal parts (cond/uncond)."""
        earlier = None
        if self.previous_controlnet is not None:
            earlier = self.previous_controlnet.residuals(model, x_in, timestep, sigma, context, y, parts)
        if self.cond_hint_original is None or not self.active(model, sigma):
            return earlier
        own = (
            self._adapter(x_in, parts)
            if self.layout.kind == "t2i_adapter"
            else self._controlnet(x_in, timestep, context, y, parts)
        )
        return own + earlier

    def _placed(self):
        return (
            self.manager.use(self.network) if self.manager is not None else contextlib.nullcontext(torch.device("cpu"))
        )

    def _dtype(self) -> torch.dtype:
        return compute_dtype(self.network)

    def _hint(self, height: int, width: int, channels: int | None = None) -> torch.Tensor:
        key = ("hint", height, width)
        if key not in self._cache:
            hint = resize_hint(self.cond_hint_original.float(), height, width)
            if channels == 1 and hint.shape[1] > 1:
                hint = hint.mean(dim=1, keepdim=True)
            self._cache = {key: hint}
        return self._cache[key]

    def _controlnet(self, x_in, timestep, context, y, parts) -> ControlResiduals:
        h, w = x_in.shape[-2:]
        hint = fit_batch(self._hint(h * LATENT_TO_PIXELS, w * LATENT_TO_PIXELS), x_in.shape[0], parts)
        with self._placed() as device:
            dtype = self._dtype()
            added = {k: v.to(device=device, dtype=dtype) for k, v in y.items()} if y is not None else None
            down, mid = self.network(
                x_in.to(device=device, dtype=dtype),
                timestep.to(device=device, dtype=torch.float32),
                encoder_hidden_states=context.to(device=device, dtype=dtype),
                controlnet_cond=hint.to(device=device, dtype=dtype),
                added_cond_kwargs=added,
                return_dict=False,
            )
        s = self.strength
        return ControlResiduals(down=[d.float() * s for d in down], mid=mid.float() * s)

    def _adapter(self, x_in, parts) -> ControlResiduals:
        factor = self.layout.config["downscale_factor"]
        h, w = (math.ceil(n * LATENT_TO_PIXELS / factor) * factor for n in x_in.shape[-2:])
        hint = self._hint(h, w, self.layout.config["in_channels"])
        key = ("features", h, w)
        if key not in self._cache:
            with self._placed() as device:
                features = self.network(hint.to(device=device, dtype=self._dtype()))
            self._cache[key] = [f.float() for f in features]
        batch = x_in.shape[0]
        return ControlResiduals(intrablock=[fit_batch(f, batch, parts) * self.strength for f in self._cache[key]])
