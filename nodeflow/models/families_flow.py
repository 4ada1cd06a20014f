"""Stable Diffusion 3 / 3.5 (MMDiT) and Flux.1 (dev, schnell): rectified-flow families described as
data (see family.py). Their networks are diffusers' SD3Transformer2DModel / FluxTransformer2DModel,
their text towers CLIP-L, CLIP-G (transformers layout) and T5-XXL; the towers' outputs are combined
by the family (``combine_text``) and the pooled text (and Flux's distilled guidance) reach the network
through ``extra_conds``; ``forward`` calls the network in its own signature."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .family import ModelFamily, TextTower, register
from .latent_format import LatentFormat

SD3_LATENT = LatentFormat(channels=16, scale_factor=1.5305, shift_factor=0.0609)
FLUX_LATENT = LatentFormat(channels=16, scale_factor=0.3611, shift_factor=0.1159)
T5_WIDTH = 4096


def _pad2(x: torch.Tensor) -> torch.Tensor:
    """Pad H and W to even sizes (2x2 patches), repeating the edge as ComfyUI does."""
    ph, pw = x.shape[-2] % 2, x.shape[-1] % 2
    return F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x


# -------------------------------------------------------------------------------- networks


def mmdit_network(config: dict) -> torch.nn.Module:
    from diffusers import SD3Transformer2DModel

    return SD3Transformer2DModel(**config)


def flux_network(config: dict) -> torch.nn.Module:
    from diffusers import FluxTransformer2DModel

    return FluxTransformer2DModel(**config)


def mmdit_forward(module, x, timestep, context, y):
    h, w = x.shape[-2:]
    out = module(
        hidden_states=_pad2(x),
        encoder_hidden_states=context,
        pooled_projections=y["pooled"],
        timestep=timestep,
        return_dict=False,
    )[0]
    return out[..., :h, :w]


def pack(x: torch.Tensor) -> torch.Tensor:
    """[B, C, H, W] -> [B, H/2 * W/2, C * 4] (2x2 patches, channel-major within a patch)."""
    b, c, h, w = x.shape
    return x.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 2, 4, 1, 3, 5).reshape(b, (h // 2) * (w // 2), c * 4)


def unpack(tokens: torch.Tensor, channels: int, h: int, w: int) -> torch.Tensor:
    b = tokens.shape[0]
    return tokens.reshape(b, h // 2, w // 2, channels, 2, 2).permute(0, 3, 1, 4, 2, 5).reshape(b, channels, h, w)


def flux_forward(module, x, timestep, context, y):
    h, w = x.shape[-2:]
    x = _pad2(x)
    hp, wp = x.shape[-2:]
    rows, cols = torch.meshgrid(torch.arange(hp // 2), torch.arange(wp // 2), indexing="ij")
    img_ids = torch.stack([torch.zeros_like(rows), rows, cols], dim=-1).reshape(-1, 3).to(x)
    txt_ids = torch.zeros(context.shape[1], 3).to(x)
    guidance = y.get("guidance") if module.config.guidance_embeds else None
    out = module(
        hidden_states=pack(x),
        encoder_hidden_states=context,
        pooled_projections=y["pooled"],
        timestep=timestep,
        img_ids=img_ids,
        txt_ids=txt_ids,
        guidance=guidance,
        return_dict=False,
    )[0]
    return unpack(out, x.shape[1], hp, wp)[..., :h, :w]


def _read_mmdit(shapes, family, pooled):
    from .convert_mmdit import mmdit_config

    return mmdit_config(shapes)


def _mmdit_to(state, config):
    from .convert_mmdit import mmdit_to_diffusers

    return mmdit_to_diffusers(state, config)


def _mmdit_from(state, config):
    from .convert_mmdit import mmdit_from_diffusers

    return mmdit_from_diffusers(state, config)


def _mmdit_lora(config):
    from .convert_mmdit import mmdit_rules
    from .convert_rules import network_to_released

    return network_to_released(mmdit_rules(config))


def _flux_lora(config):
    from .convert_flux import flux_rules
    from .convert_rules import network_to_released

    return network_to_released(flux_rules(config))


def _read_flux(shapes, family, pooled):
    from .convert_flux import flux_config

    return flux_config(shapes)


def _flux_to(state, config):
    from .convert_flux import flux_to_diffusers

    return flux_to_diffusers(state, config)


def _flux_from(state, config):
    from .convert_flux import flux_from_diffusers

    return flux_from_diffusers(state, config)


# -------------------------------------------------------------------------------- conditioning


def _pooled(options: dict, batch: int, width: int) -> torch.Tensor:
    pooled = options.get("pooled_output")
    if pooled is None:
        pooled = torch.zeros(1, width)
    return pooled.float().repeat(-(-batch // pooled.shape[0]), 1)[:batch]


def sd3_extras(options: dict, batch: int, height: int, width: int) -> dict:
    return {"pooled": _pooled(options, batch, 2048)}


def flux_extras(options: dict, batch: int, height: int, width: int) -> dict:
    return {
        "pooled": _pooled(options, batch, 768),
        "guidance": torch.full((batch,), float(options.get("guidance", 3.5))),
    }


def flux_schnell_extras(options: dict, batch: int, height: int, width: int) -> dict:
    return {"pooled": _pooled(options, batch, 768)}


def sd3_combine(parts: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """CLIP-L ++ CLIP-G on width, zero-padded to 4096, then T5 along tokens; pooled L ++ G."""
    clip_l, g, t5 = parts.get("clip_l"), parts.get("clip_g"), parts.get("t5xxl")
    sequences = []
    if clip_l is not None or g is not None:
        tokens = (clip_l or g)[0].shape[1]
        lh = clip_l[0] if clip_l is not None else torch.zeros(1, tokens, 768)
        gh = g[0] if g is not None else torch.zeros(1, tokens, 1280)
        clip = torch.cat([lh, gh], dim=-1)
        width = t5[0].shape[-1] if t5 is not None else T5_WIDTH  # 4096 for the released towers
        sequences.append(F.pad(clip, (0, width - clip.shape[-1])))
    if t5 is not None:
        sequences.append(t5[0])
    if not sequences:  # every tower left out (empty prompts without padding)
        sequences.append(torch.zeros(1, 77, T5_WIDTH))
    pooled = torch.cat(
        [clip_l[1] if clip_l is not None else torch.zeros(1, 768), g[1] if g is not None else torch.zeros(1, 1280)],
        dim=-1,
    )
    return torch.cat(sequences, dim=1), pooled


def flux_combine(parts: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """The T5 sequence conditions the transformer; CLIP-L's pooled output is the vector input."""
    clip_l, t5 = parts.get("clip_l"), parts.get("t5xxl")
    pooled = clip_l[1] if clip_l is not None else torch.zeros(1, 768)
    return (t5[0] if t5 is not None else torch.zeros(1, 256, T5_WIDTH)), pooled


# -------------------------------------------------------------------------------- families


def _flow(shift: float, multiplier: float, kind: str = "snr"):
    def schedule():
        from nodeflow.sampling.flow_schedule import FlowSchedule

        return FlowSchedule(shift=shift, multiplier=multiplier, timesteps=10000 if kind == "flux" else 1000, kind=kind)

    return schedule


def _is_flux(f) -> bool:
    return (
        "double_blocks.0.img_attn.norm.key_norm.scale" in f.unet
        and "img_in.weight" in f.unet
        and "double_stream_modulation_img.lin.weight" not in f.unet
    )


_CLIP_L = TextTower(
    "clip_l",
    "text_encoders.clip_l.transformer.",
    "hf_clip",
    layer=-2,
    final_norm_on_hidden=False,
    lora_prefixes=("lora_te1_", "text_encoder."),
)
_CLIP_G = TextTower(
    "clip_g",
    "text_encoders.clip_g.transformer.",
    "hf_clip",
    layer=-2,
    pad_with_eos=False,
    final_norm_on_hidden=False,
    projection=True,
    lora_prefixes=("lora_te2_", "text_encoder_2."),
    diffusers_folder="text_encoder_2",
)
_T5 = TextTower(
    "t5xxl",
    "text_encoders.t5xxl.transformer.",
    "t5",
    max_tokens=77,
    lora_prefixes=("lora_te3_", "text_encoder_3."),
    diffusers_folder="text_encoder_3",
)

FLOW = {
    "prediction": "flow",
    "sampling": "flow",
    "unet_sample_size": 128,
    "vae_sample_size": 1024,
    "context_dim": T5_WIDTH,
}

SD3 = ModelFamily(
    name="sd3",
    label="Stable Diffusion 3 / 3.5",
    latent_format=SD3_LATENT,
    text_towers=(_CLIP_L, _CLIP_G, _T5),
    pooled_tower=None,
    recognise=lambda f: "joint_blocks.0.context_block.attn.qkv.weight" in f.unet,
    extra_conds=sd3_extras,
    schedule=_flow(3.0, 1000.0),
    read_config=_read_mmdit,
    network=mmdit_network,
    to_network=_mmdit_to,
    from_network=_mmdit_from,
    forward=mmdit_forward,
    lora_names=_mmdit_lora,
    combine_text=sd3_combine,
    comfy_class="SD3",
    input_key="x_embedder.proj.weight",
    diffusers_match=lambda c: c.get("_class_name") == "SD3Transformer2DModel",
    **FLOW,
)

_FLUX_TOWERS = (
    TextTower("clip_l", "text_encoders.clip_l.transformer.", "hf_clip", lora_prefixes=("lora_te1_", "text_encoder.")),
    TextTower(
        "t5xxl",
        "text_encoders.t5xxl.transformer.",
        "t5",
        max_tokens=256,
        lora_prefixes=("lora_te2_", "text_encoder_2."),
        diffusers_folder="text_encoder_2",
    ),
)

FLUX_SCHNELL = ModelFamily(
    name="flux_schnell",
    label="Flux.1 schnell",
    latent_format=FLUX_LATENT,
    text_towers=_FLUX_TOWERS,
    pooled_tower=None,
    recognise=lambda f: _is_flux(f) and "guidance_in.in_layer.weight" not in f.unet,
    extra_conds=flux_schnell_extras,
    schedule=_flow(1.0, 1.0),
    read_config=_read_flux,
    network=flux_network,
    to_network=_flux_to,
    from_network=_flux_from,
    forward=flux_forward,
    lora_names=_flux_lora,
    combine_text=flux_combine,
    comfy_class="Flux",
    input_key="img_in.weight",
    patch_channels=4,
    diffusers_match=lambda c: c.get("_class_name") == "FluxTransformer2DModel" and not c.get("guidance_embeds"),
    **FLOW,
)

FLUX = ModelFamily(
    name="flux",
    label="Flux.1 dev",
    latent_format=FLUX_LATENT,
    text_towers=_FLUX_TOWERS,
    pooled_tower=None,
    recognise=_is_flux,
    extra_conds=flux_extras,
    schedule=_flow(1.15, 1.0, "flux"),
    read_config=_read_flux,
    network=flux_network,
    to_network=_flux_to,
    from_network=_flux_from,
    forward=flux_forward,
    lora_names=_flux_lora,
    combine_text=flux_combine,
    comfy_class="Flux",
    input_key="img_in.weight",
    patch_channels=4,
    diffusers_match=lambda c: c.get("_class_name") == "FluxTransformer2DModel" and bool(c.get("guidance_embeds")),
    **FLOW,
)

register(SD3, FLUX_SCHNELL, FLUX, first=True)
