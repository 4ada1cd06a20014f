"""``model.model``: ComfyUI's BaseModel as a view of a NodeFlow DiffusionModel.

Packs reach the network, its ModelSampling, LatentFormat and config through ``model.model`` and
test its class (``isinstance(model.model, comfy.model_base.SDXL)``); the class is named by the
family (``ModelFamily.comfy_class``). ``apply_model(x, sigma, c_crossattn=..., ...)`` returns the
denoised estimate as ComfyUI's does, through NodeFlow's denoiser (the family's prediction and
schedule, this clone's weight patches). ``y`` is NodeFlow's extra-conditioning dict (SDXL's
``text_embeds``/``time_ids``, from ``extra_conds``) rather than ComfyUI's packed vector."""

from __future__ import annotations

import math
from enum import Enum

import torch

from .latent_formats import format_for
from .model_sampling import sampling_for
from .wrappers import WrappersMP, run_wrapped


class ModelType(Enum):
    EPS = 1
    V_PREDICTION = 2
    V_PREDICTION_EDM = 3
    STABLE_CASCADE = 4
    EDM = 5
    FLOW = 6
    V_PREDICTION_CONTINUOUS = 7
    FLUX = 8
    IMG_TO_IMG = 9
    FLOW_COSMOS = 10


PREDICTION_TYPES = {"eps": ModelType.EPS, "v": ModelType.V_PREDICTION, "edm": ModelType.EDM, "flow": ModelType.FLOW}


def unet_config_of(module: torch.nn.Module) -> dict:
    """The few UNet hyperparameters packs read, in ComfyUI's names, from a diffusers config."""
    cfg = dict(getattr(module, "config", {}) or {})
    if not cfg:
        return {}
    widths = list(cfg.get("block_out_channels", ()))
    levels = len(widths)
    per_level = cfg.get("layers_per_block", 2)
    depth = cfg.get("transformer_layers_per_block", 1)
    out = {
        "model_channels": widths[0] if widths else None,
        "in_channels": cfg.get("in_channels"),
        "out_channels": cfg.get("out_channels"),
        "channel_mult": [w // widths[0] for w in widths],
        "num_res_blocks": list(per_level) if isinstance(per_level, (list, tuple)) else [per_level] * levels,
        "context_dim": cfg.get("cross_attention_dim"),
        "use_spatial_transformer": True,
        "legacy": False,
        "use_linear_in_transformer": bool(cfg.get("use_linear_projection", False)),
        "transformer_depth": list(depth) if isinstance(depth, (list, tuple)) else [depth] * levels,
    }
    if cfg.get("projection_class_embeddings_input_dim"):
        out["adm_in_channels"] = cfg["projection_class_embeddings_input_dim"]
    return out


class ModelConfig:
    """``model.model.model_config``: what ComfyUI's supported-model config says about this model."""

    def __init__(self, patcher) -> None:
        family = patcher.family
        self.unet_config = unet_config_of(patcher.unet.module)
        self.latent_format = format_for(family.latent_format, patcher.latent_rgb_factors)
        self.sampling_settings = (
            {"beta_schedule": "linear", "linear_start": 0.00085, "linear_end": 0.012}
            if family.sampling == "discrete"
            else {}
        )
        self.unet_extra_config: dict = {}
        self.manual_cast_dtype = None
        self.custom_operations = None
        self.supported_inference_dtypes = [torch.float16, torch.bfloat16, torch.float32]
        self.memory_usage_factor = 1.0
        self.optimizations: dict = {}
        self.name = family.name


class BaseModel(torch.nn.Module):
    """A view: built by ``BaseModel.view_of(model)``; NodeFlow builds networks from files only."""

    def __init__(
        self, model_config=None, model_type=ModelType.EPS, device=None, unet_model=None, *, patcher=None
    ) -> None:
        if patcher is None:
            raise NotImplementedError(
                "NodeFlow builds diffusion models from checkpoint files; load one with "
                "comfy.sd.load_checkpoint_guess_config or a loader node"
            )
        super().__init__()
        self.diffusion_model = patcher.unet.module
        self.current_patcher = patcher
        self.model_config = ModelConfig(patcher)
        self.latent_format = self.model_config.latent_format
        self.manual_cast_dtype = None
        self.concat_keys = ("mask", "masked_image") if patcher.in_channels > patcher.latent_channels else ()
        self.adm_channels = self.model_config.unet_config.get("adm_in_channels", 0)
        self._default_sampling = None

    @classmethod
    def view_of(cls, patcher) -> BaseModel:
        name = patcher.family.comfy_class
        return (VIEW_CLASSES.get(name) or MARKERS.get(name) or BaseModel)(patcher=patcher)

    @property
    def model_type(self) -> ModelType:
        return PREDICTION_TYPES.get(getattr(self.model_sampling, "prediction", "eps"), ModelType.EPS)

    @property
    def model_sampling(self):
        override = self.current_patcher.facade_state.object_patches.get("model_sampling")
        if override is not None:
            return override
        if self._default_sampling is None:
            self._default_sampling = sampling_for(self.current_patcher)
        return self._default_sampling

    @property
    def device(self) -> torch.device:
        return self.current_patcher.device

    def get_dtype(self) -> torch.dtype:
        return self.current_patcher.dtype

    def process_latent_in(self, latent: torch.Tensor) -> torch.Tensor:
        return self.current_patcher.process_latent_in(latent)

    def process_latent_out(self, latent: torch.Tensor) -> torch.Tensor:
        return self.current_patcher.process_latent_out(latent)

    def memory_required(self, input_shape) -> float:
        """Bytes a denoise call of this input shape needs, roughly (activations grow with area)."""
        area = input_shape[0] * math.prod(input_shape[2:])
        size = torch.finfo(self.get_dtype()).bits // 8
        return area * size * 0.01 * self.model_config.memory_usage_factor * 1024 * 1024

    def extra_conds(self, **kwargs) -> dict:
        """The conditioning tensors of one cond for the network (NodeFlow's forms)."""
        out = {}
        if kwargs.get("cross_attn") is not None:
            out["c_crossattn"] = kwargs["cross_attn"]
        noise = kwargs.get("noise")
        if noise is not None:
            y = self.current_patcher.adm(kwargs, noise.shape[0], noise.shape[2] * 8, noise.shape[3] * 8)
            if y is not None:
                out["y"] = y
        return out

    def apply_model(
        self, x, t, c_concat=None, c_crossattn=None, control=None, transformer_options=None, **kwargs
    ) -> torch.Tensor:
        """Denoised estimate of ``x`` at sigma ``t`` (through any apply_model wrappers)."""
        transformer_options = transformer_options if transformer_options is not None else {}
        return run_wrapped(
            WrappersMP.APPLY_MODEL,
            self._apply_model,
            self,
            transformer_options,
            x,
            t,
            c_concat,
            c_crossattn,
            control,
            transformer_options,
            **kwargs,
        )

    def _apply_model(
        self, x, t, c_concat=None, c_crossattn=None, control=None, transformer_options=None, **kwargs
    ) -> torch.Tensor:
        from nodeflow.sampling.guidance import ControlCall, denoise_with_model

        if control is not None and not isinstance(control, ControlCall):
            raise NotImplementedError(
                "ComfyUI-format control residuals (a dict of 'input'/'middle'/'output' lists) "
                "are not supported by NodeFlow's UNet; apply ControlNets with the Apply "
                "ControlNet node, whose controls reach apply_model as NodeFlow's own"
            )
        if c_crossattn is None:
            raise ValueError("apply_model needs c_crossattn (the text conditioning)")
        return denoise_with_model(self.current_patcher, x, t, c_crossattn, kwargs.get("y"), c_concat, control)


class SDXL(BaseModel):
    pass


class SDXLRefiner(BaseModel):
    pass


class SD21UNCLIP(BaseModel):
    pass


class SVD_img2vid(BaseModel):
    pass


VIEW_CLASSES = {"BaseModel": BaseModel, "SDXL": SDXL, "SDXLRefiner": SDXLRefiner}
# architectures NodeFlow does not run: classes only, so that packs' isinstance tests answer False
MARKER_NAMES = (
    "SD3",
    "Flux",
    "AuraFlow",
    "HunyuanDiT",
    "PixArt",
    "StableCascade_C",
    "StableCascade_B",
    "SD_X4Upscaler",
    "SDXL_instructpix2pix",
    "SD15_instructpix2pix",
    "Stable_Zero123",
    "StableAudio1",
    "GenmoMochi",
    "LTXV",
    "HunyuanVideo",
    "CosmosVideo",
    "Lumina2",
    "WAN21",
    "HiDream",
    "Chroma",
    "ACEStep",
    "Omnigen2",
    "QwenImage",
    "IP2P",
)
MARKERS = {name: type(name, (BaseModel,), {"__module__": __name__}) for name in MARKER_NAMES}
