"""How ComfyUI names the method of each core node and orders its parameters, as data.

Packs call core nodes the ComfyUI way (``nodes.VAEDecode().decode(vae, samples)``); NodeFlow's
nodes have ``run`` with keyword inputs, sometimes in another order. ``ComfyMethod`` records the
method name (FUNCTION), the positional order, extra class attributes packs read, and parameters
ComfyUI has that NodeFlow's node does not need (accepted when they hold the value NodeFlow
implies; ``ANY`` = any value). Nodes not listed get ``execute`` in the node's own input order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ANY = object()
IMAGE_SCALE_METHODS = ["nearest-exact", "bilinear", "area", "bicubic", "lanczos"]
LATENT_SCALE_METHODS = ["nearest-exact", "bilinear", "area", "bicubic", "bislerp"]
CROP_METHODS = ["disabled", "center"]


@dataclass(frozen=True)
class ComfyMethod:
    function: str
    params: tuple[str, ...] | None = None  # None: the node's own input order
    attrs: dict[str, Any] = field(default_factory=dict)
    ignored: dict[str, Any] = field(default_factory=dict)


def _m(function: str, params: str | None = None, attrs: dict | None = None, ignored: dict | None = None) -> ComfyMethod:
    return ComfyMethod(function, tuple(params.split()) if params else None, attrs or {}, ignored or {})


_SAVE = "images filename_prefix prompt extra_pnginfo"
_SCALE = {"upscale_methods": IMAGE_SCALE_METHODS, "crop_methods": CROP_METHODS}
_LATENT_SCALE = {"upscale_methods": LATENT_SCALE_METHODS, "crop_methods": CROP_METHODS}

COMFY_METHODS: dict[str, ComfyMethod] = {
    # text and conditioning
    "CLIPTextEncode": _m("encode", "clip text"),
    "CLIPSetLastLayer": _m("set_last_layer", "clip stop_at_clip_layer"),
    "CLIPTextEncodeSDXL": _m("encode", "clip width height crop_w crop_h target_width target_height text_g text_l"),
    "CLIPTextEncodeSDXLRefiner": _m("encode", "clip ascore width height text"),
    "ConditioningCombine": _m("combine", "conditioning_1 conditioning_2"),
    "ConditioningSetArea": _m("append", "conditioning width height x y strength"),
    "ConditioningConcat": _m("concat", "conditioning_to conditioning_from"),
    "ConditioningAverage": _m("addWeighted", "conditioning_to conditioning_from conditioning_to_strength"),
    "ConditioningZeroOut": _m("zero_out", "conditioning"),
    "ConditioningSetTimestepRange": _m("set_range", "conditioning start end"),
    "ControlNetLoader": _m("load_controlnet", "control_net_name"),
    "ControlNetApply": _m("apply_controlnet", "conditioning control_net image strength"),
    "DiffControlNetLoader": _m("load_controlnet", "model control_net_name"),
    "SetUnionControlNetType": _m("set_controlnet_type", "control_net type"),
    "Canny": _m("detect_edge", "image low_threshold high_threshold"),
    "ControlNetApplyAdvanced": _m(
        "apply_controlnet",
        "positive negative control_net image strength start_percent end_percent vae",
        ignored={"extra_concat": []},
    ),
    # images and masks
    "LoadImage": _m("load_image", "image"),
    "LoadImageMask": _m("load_image", "image channel"),
    "SaveImage": _m("save_images", _SAVE),
    "PreviewImage": _m("save_images", _SAVE, ignored={"filename_prefix": ANY}),
    "ImageScale": _m("upscale", "image upscale_method width height crop", _SCALE),
    "ImageScaleBy": _m("upscale", "image upscale_method scale_by", _SCALE),
    "ImageInvert": _m("invert", "image"),
    "ImageBlend": _m("blend_images", "image1 image2 blend_factor blend_mode"),
    "ImageCrop": _m("crop", "image width height x y"),
    "ImageBatch": _m("batch", "image1 image2"),
    "EmptyImage": _m("generate", "width height batch_size color"),
    "ImageCompositeMasked": _m("composite", "destination source x y resize_source mask"),
    "ImagePadForOutpaint": _m("expand_image", "image left top right bottom feathering"),
    "SolidMask": _m("solid", "value width height"),
    "InvertMask": _m("invert", "mask"),
    "MaskToImage": _m("mask_to_image", "mask"),
    "ImageToMask": _m("image_to_mask", "image channel"),
    "GrowMask": _m("expand_mask", "mask expand tapered_corners"),
    "FeatherMask": _m("feather", "mask left top right bottom"),
    "UpscaleModelLoader": _m("load_model", "model_name"),
    "ImageUpscaleWithModel": _m("upscale", "upscale_model image"),
    # latents
    "EmptyLatentImage": _m("generate", "width height batch_size"),
    "VAEDecode": _m("decode", "vae samples"),
    "VAEEncode": _m("encode", "vae pixels"),
    "VAEDecodeTiled": _m("decode", "vae samples tile_size overlap temporal_size temporal_overlap"),
    "VAEEncodeTiled": _m("encode", "vae pixels tile_size overlap temporal_size temporal_overlap"),
    "VAEEncodeForInpaint": _m("encode", "vae pixels mask grow_mask_by"),
    "InpaintModelConditioning": _m("encode", "positive negative pixels vae mask noise_mask"),
    "LatentUpscale": _m("upscale", "samples upscale_method width height crop", _LATENT_SCALE),
    "LatentUpscaleBy": _m("upscale", "samples upscale_method scale_by", _LATENT_SCALE),
    "LatentComposite": _m("composite", "samples_to samples_from x y feather", ignored={"composite_method": "normal"}),
    "RepeatLatentBatch": _m("repeat", "samples amount"),
    "LatentFromBatch": _m("frombatch", "samples batch_index length"),
    "SetLatentNoiseMask": _m("set_mask", "samples mask"),
    "SaveLatent": _m("save", "samples filename_prefix prompt extra_pnginfo"),
    "LoadLatent": _m("load", "latent"),
    # sampling
    "KSampler": _m("sample", "model seed steps cfg sampler_name scheduler positive negative latent_image denoise"),
    "KSamplerAdvanced": _m(
        "sample",
        "model add_noise noise_seed steps cfg sampler_name scheduler positive negative "
        "latent_image start_at_step end_at_step return_with_leftover_noise",
        ignored={"denoise": 1.0},
    ),
    "KSamplerSelect": _m("get_sampler", "sampler_name"),
    "BasicScheduler": _m("get_sigmas", "model scheduler steps denoise"),
    "SDTurboScheduler": _m("get_sigmas", "model steps denoise"),
    "SamplerCustom": _m("sample", "model add_noise noise_seed cfg positive negative sampler sigmas latent_image"),
    # loaders and savers
    "CheckpointLoaderSimple": _m("load_checkpoint", "ckpt_name"),
    "CheckpointLoader": _m("load_checkpoint", "config_name ckpt_name"),
    "DiffusersLoader": _m("load_checkpoint", "model_path", ignored={"output_vae": True, "output_clip": True}),
    "VAELoader": _m("load_vae", "vae_name"),
    "UNETLoader": _m("load_unet", "unet_name weight_dtype"),
    "CLIPLoader": _m("load_clip", "clip_name type device"),
    "DualCLIPLoader": _m("load_clip", "clip_name1 clip_name2 type device"),
    "LoraLoader": _m("load_lora", "model clip lora_name strength_model strength_clip"),
    "LoraLoaderModelOnly": _m("load_lora_model_only", "model lora_name strength_model"),
    "CheckpointSave": _m("save", "model clip vae filename_prefix prompt extra_pnginfo"),
}
