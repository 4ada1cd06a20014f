"""A custom-node pack in the style of real ComfyUI packs, copied into custom_nodes/ by the tests.

At import time it takes every symbol of the census (shared/reference/comfy-module-surface.md) that
lives in comfy.ops, comfy.ldm, comfy.controlnet, comfy.hooks, the comfy text encoders and the
comfy_extras modules, the way packs do (module imports, from-imports, attribute chains); names
ComfyUI itself lacks are imported inside try/except as packs do. Its nodes use comfy.ops layers,
optimized_attention and comfy_extras classes while running."""

import json

import comfy.controlnet
import comfy.hooks
import comfy.ops
import comfy.sdxl_clip
import torch
from comfy.ldm.flux.math import apply_rope
from comfy.ldm.lightricks.model import apply_rotary_emb
from comfy.ldm.lightricks.vae.audio_vae import AudioVAE
from comfy.ldm.modules.attention import (
    CrossAttention,
    FeedForward,
    SpatialTransformer,
    attention_basic,
    attention_flash,
    attention_pytorch,
    attention_sage,
    attention_split,
    attention_sub_quad,
    attention_xformers,
    default,
    optimized_attention,
    optimized_attention_masked,
    wrap_attn,
)
from comfy.ldm.modules.diffusionmodules import openaimodel
from comfy.ldm.modules.diffusionmodules.openaimodel import UNetModel
from comfy.ldm.modules.diffusionmodules.util import timestep_embedding
from comfy.ldm.qwen_image.model import Attention as QwenAttention
from comfy.ldm.wan.model import sinusoidal_embedding_1d
from comfy.text_encoders.flux import FluxClipModel
from comfy.text_encoders.sd3_clip import SD3ClipModel, T5XXLModel
from comfy_extras.chainner_models.model_loading import load_state_dict
from comfy_extras.nodes_align_your_steps import AlignYourStepsScheduler
from comfy_extras.nodes_clip_sdxl import CLIPTextEncodeSDXL
from comfy_extras.nodes_custom_sampler import BasicGuider, BasicScheduler, Noise_RandomNoise, SamplerCustomAdvanced
from comfy_extras.nodes_gits import GITSScheduler
from comfy_extras.nodes_hooks import CreateHookModelAsLora, SetClipHooks
from comfy_extras.nodes_latent import LatentBatch
from comfy_extras.nodes_lt import LTXVAddGuide, get_noise_mask
from comfy_extras.nodes_mask import composite
from comfy_extras.nodes_model_advanced import (
    LCM,
    ModelSamplingAuraFlow,
    ModelSamplingDiscrete,
    ModelSamplingDiscreteDistilled,
    ModelSamplingFlux,
    RescaleCFG,
)
from comfy_extras.nodes_upscale_model import ImageUpscaleWithModel, UpscaleModelLoader

CENSUS = {
    "comfy.ldm.modules.attention.attention_pytorch": attention_pytorch,
    "comfy.ldm.modules.attention.optimized_attention": optimized_attention,
    "comfy.ldm.modules.attention.CrossAttention": CrossAttention,
    "comfy.ldm.modules.attention.FeedForward": FeedForward,
    "comfy.ldm.modules.diffusionmodules.openaimodel.UNetModel": UNetModel,
    "comfy.ldm.lightricks.model.apply_rotary_emb": apply_rotary_emb,
    "comfy.ldm.modules.attention.attention_basic": attention_basic,
    "comfy.ldm.modules.attention.attention_split": attention_split,
    "comfy.ldm.modules.attention.attention_sub_quad": attention_sub_quad,
    "comfy.ldm.modules.attention.default": default,
    "comfy.ldm.modules.diffusionmodules.util.timestep_embedding": timestep_embedding,
    "comfy.ldm.wan.model.sinusoidal_embedding_1d": sinusoidal_embedding_1d,
    "comfy.ldm.flux.math.apply_rope": apply_rope,
    "comfy.ldm.lightricks.vae.audio_vae.AudioVAE": AudioVAE,
    "comfy.ldm.modules.attention.wrap_attn": wrap_attn,
    "comfy.ldm.modules.diffusionmodules.openaimodel.SpatialTransformer": openaimodel.SpatialTransformer,
    "comfy.ldm.modules.attention.SpatialTransformer": SpatialTransformer,
    "comfy.ldm.modules.attention.attention_flash": attention_flash,
    "comfy.ldm.modules.attention.attention_sage": attention_sage,
    "comfy.ldm.modules.attention.attention_xformers": attention_xformers,
    "comfy.ldm.modules.attention.optimized_attention_masked": optimized_attention_masked,
    "comfy.ldm.qwen_image.model.Attention.forward": QwenAttention.forward,
    "comfy.ops.manual_cast": comfy.ops.manual_cast,
    "comfy.ops.disable_weight_init.GroupNorm.forward_comfy_cast_weights": comfy.ops.disable_weight_init.GroupNorm.forward_comfy_cast_weights,
    "comfy.ops.disable_weight_init": comfy.ops.disable_weight_init,
    "comfy.ops.cast_to": comfy.ops.cast_to,
    "comfy.ops.disable_weight_init.Conv2d": comfy.ops.disable_weight_init.Conv2d,
    "comfy.ops.disable_weight_init.Linear": comfy.ops.disable_weight_init.Linear,
    "comfy.ops.cast_bias_weight": comfy.ops.cast_bias_weight,
    "comfy.ops.manual_cast.Conv2d": comfy.ops.manual_cast.Conv2d,
    "comfy.ops.manual_cast.Embedding": comfy.ops.manual_cast.Embedding,
    "comfy.ops.manual_cast.GroupNorm": comfy.ops.manual_cast.GroupNorm,
    "comfy.ops.manual_cast.LayerNorm": comfy.ops.manual_cast.LayerNorm,
    "comfy.ops.manual_cast.Linear": comfy.ops.manual_cast.Linear,
    "comfy.controlnet.load_controlnet": comfy.controlnet.load_controlnet,
    "comfy.controlnet.broadcast_image_to": comfy.controlnet.broadcast_image_to,
    "comfy.controlnet.ControlBase": comfy.controlnet.ControlBase,
    "comfy.hooks.HookKeyframe": comfy.hooks.HookKeyframe,
    "comfy.hooks.HookKeyframeGroup": comfy.hooks.HookKeyframeGroup,
    "comfy.hooks.set_conds_props_and_combine": comfy.hooks.set_conds_props_and_combine,
    "comfy.hooks.HookGroup.combine_all_hooks": comfy.hooks.HookGroup.combine_all_hooks,
    "comfy.hooks.set_conds_props": comfy.hooks.set_conds_props,
    "comfy.hooks.set_default_conds_and_combine": comfy.hooks.set_default_conds_and_combine,
    "comfy.hooks.HookGroup": comfy.hooks.HookGroup,
    "comfy.hooks.load_hook_lora_for_models": comfy.hooks.load_hook_lora_for_models,
    "comfy.hooks.set_hooks_for_conditioning": comfy.hooks.set_hooks_for_conditioning,
    "comfy.sdxl_clip.SDXLClipModel": comfy.sdxl_clip.SDXLClipModel,
    "comfy.text_encoders.flux.FluxClipModel": FluxClipModel,
    "comfy.sdxl_clip.SDXLClipG": comfy.sdxl_clip.SDXLClipG,
    "comfy.sdxl_clip.SDXLRefinerClipModel": comfy.sdxl_clip.SDXLRefinerClipModel,
    "comfy.sdxl_clip.StableCascadeClipModel": comfy.sdxl_clip.StableCascadeClipModel,
    "comfy.text_encoders.sd3_clip.SD3ClipModel": SD3ClipModel,
    "comfy.text_encoders.sd3_clip.T5XXLModel": T5XXLModel,
    "comfy_extras.nodes_latent.LatentBatch": LatentBatch,
    "comfy_extras.nodes_model_advanced.LCM": LCM,
    "comfy_extras.nodes_model_advanced.ModelSamplingAuraFlow": ModelSamplingAuraFlow,
    "comfy_extras.nodes_model_advanced.ModelSamplingDiscreteDistilled": ModelSamplingDiscreteDistilled,
    "comfy_extras.nodes_model_advanced.ModelSamplingFlux": ModelSamplingFlux,
    "comfy_extras.nodes_model_advanced.ModelSamplingDiscrete": ModelSamplingDiscrete,
    "comfy_extras.nodes_model_advanced.RescaleCFG": RescaleCFG,
    "comfy_extras.nodes_custom_sampler.BasicGuider": BasicGuider,
    "comfy_extras.nodes_custom_sampler.BasicScheduler": BasicScheduler,
    "comfy_extras.nodes_custom_sampler.Noise_RandomNoise": Noise_RandomNoise,
    "comfy_extras.nodes_custom_sampler.SamplerCustomAdvanced": SamplerCustomAdvanced,
    "comfy_extras.nodes_lt.LTXVAddGuide": LTXVAddGuide,
    "comfy_extras.nodes_lt.get_noise_mask": get_noise_mask,
    "comfy_extras.nodes_clip_sdxl.CLIPTextEncodeSDXL": CLIPTextEncodeSDXL,
    "comfy_extras.nodes_align_your_steps.AlignYourStepsScheduler": AlignYourStepsScheduler,
    "comfy_extras.nodes_gits.GITSScheduler": GITSScheduler,
    "comfy_extras.nodes_hooks.CreateHookModelAsLora": CreateHookModelAsLora,
    "comfy_extras.nodes_hooks.SetClipHooks.apply_hooks": SetClipHooks.apply_hooks,
    "comfy_extras.nodes_mask.composite": composite,
    "comfy_extras.nodes_upscale_model.ImageUpscaleWithModel": ImageUpscaleWithModel,
    "comfy_extras.nodes_upscale_model.UpscaleModelLoader": UpscaleModelLoader,
    "comfy_extras.chainner_models.model_loading.load_state_dict": load_state_dict,
}

# Names the census marks "absent in ComfyUI": packs reach them inside try/except, so do we.
ABSENT = {}
try:
    from comfy.ldm.modules.attention import attention as _absent  # noqa: F401 -- probing whether the name exists
except ImportError as exc:
    ABSENT["comfy.ldm.modules.attention.attention"] = str(exc)
try:
    from comfy_extras.nodes_model_advanced import rescale_zero_terminal_snr_sigmas  # noqa: F401 -- probing whether the name exists
except ImportError as exc:
    ABSENT["comfy_extras.nodes_model_advanced.rescale_zero_terminal_snr_sigmas"] = str(exc)
try:
    from comfy.sd3_clip import SD3ClipModel as _legacy  # noqa: F401 -- probing whether the name exists
except ImportError as exc:
    ABSENT["comfy.sd3_clip"] = str(exc)


def _weights(generator, rows, cols):
    return torch.randn(rows, cols, generator=generator)


class CensusNoiseLatent:
    """Seeded noise for the latent (Noise_RandomNoise), batched with the next seed's (LatentBatch)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"samples": ("LATENT",), "seed": ("INT", {"default": 0, "min": 0, "max": 2**31})}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "make"
    CATEGORY = "census"

    def make(self, samples, seed):
        first = {"samples": Noise_RandomNoise(seed).generate_noise(samples)}
        second = {"samples": Noise_RandomNoise(seed + 1).generate_noise(samples)}
        return LatentBatch().batch(first, second)


class CensusAttention:
    """Self-attention over the latent's pixels: fp16-stored comfy.ops.manual_cast.Linear projections,
    comfy's optimized_attention, a residual connection."""

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "samples": ("LATENT",),
                "seed": ("INT", {"default": 0, "min": 0, "max": 2**31}),
                "heads": ("INT", {"default": 2, "min": 1, "max": 8}),
            }
        }

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "attend"
    CATEGORY = "census"

    def attend(self, samples, seed, heads):
        x = samples["samples"]
        b, c, h, w = x.shape
        width = 4 * heads
        g = torch.Generator().manual_seed(seed)
        layers = [comfy.ops.manual_cast.Linear(c, width, bias=False, dtype=torch.float16) for _ in range(3)]
        out_proj = comfy.ops.manual_cast.Linear(width, c, dtype=torch.float16)
        with torch.no_grad():
            for layer in layers:
                layer.weight.copy_(_weights(g, width, c))
            out_proj.weight.copy_(_weights(g, c, width))
            out_proj.bias.copy_(torch.randn(c, generator=g))
            tokens = x.flatten(2).transpose(1, 2)
            q, k, v = (layer(tokens) for layer in layers)
            attended = out_proj(optimized_attention(q, k, v, heads))
        out = dict(samples)
        out["samples"] = x + attended.transpose(1, 2).reshape(b, c, h, w)
        return (out,)


class CensusReport:
    """Shows a latent's values and batch indices as JSON text."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"samples": ("LATENT",)}}

    RETURN_TYPES = ()
    FUNCTION = "report"
    OUTPUT_NODE = True
    CATEGORY = "census"

    def report(self, samples):
        data = {
            "shape": list(samples["samples"].shape),
            "values": samples["samples"].flatten().tolist(),
            "batch_index": samples.get("batch_index"),
        }
        return {"ui": {"text": [json.dumps(data)]}, "result": ()}


class CensusAYS(AlignYourStepsScheduler):
    """The pack's own scheduler node: a subclass of ComfyUI's AlignYourStepsScheduler."""

    CATEGORY = "census"


class CensusSigmas:
    """Shows SIGMAS as JSON text."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"sigmas": ("SIGMAS",)}}

    RETURN_TYPES = ()
    FUNCTION = "show"
    OUTPUT_NODE = True
    CATEGORY = "census"

    def show(self, sigmas):
        return {"ui": {"text": [json.dumps(sigmas.tolist())]}, "result": ()}


NODE_CLASS_MAPPINGS = {
    "CensusNoiseLatent": CensusNoiseLatent,
    "CensusAttention": CensusAttention,
    "CensusReport": CensusReport,
    "CensusAYS": CensusAYS,
    "CensusSigmas": CensusSigmas,
}
NODE_DISPLAY_NAME_MAPPINGS = {"CensusAYS": "Align Your Steps (census pack)"}
