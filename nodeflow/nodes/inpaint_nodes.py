"""Inpainting and outpainting: encode with a mask, condition 9-channel inpainting models,
pad images for outpainting. Ordinary checkpoints inpaint through the latent's noise_mask;
inpainting checkpoints also receive the masked image and mask through the conditioning."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nodeflow.imaging.crop import crop_to_multiple
from nodeflow.schema.node import Node
from nodeflow.schema.types import MAX_RESOLUTION, Boolean, Conditioning, Image, Int, Latent, Mask, Output, Vae


def mask_like(mask: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
    """A MASK ([H,W] or [B,H,W]) resized to the pixels' size, as [B,1,H,W] in 0..1."""
    if mask.dim() == 2:
        mask = mask[None]
    if mask.dim() != 3:
        raise ValueError(f"mask must be [batch, height, width], got shape {list(mask.shape)}")
    mask = mask[:, None].float()
    if mask.shape[-2:] != pixels.shape[1:3]:
        mask = F.interpolate(mask, size=pixels.shape[1:3], mode="bilinear", align_corners=False)
    if mask.shape[0] not in (1, pixels.shape[0]):
        raise ValueError(f"mask batch {mask.shape[0]} does not match image batch {pixels.shape[0]}")
    return mask.expand(pixels.shape[0], -1, -1, -1).clamp(0, 1)


def grow(mask: torch.Tensor, pixels: int) -> torch.Tensor:
    """Dilate a [B,1,H,W] mask by ``pixels`` (square neighbourhood)."""
    if pixels <= 0:
        return mask
    return F.max_pool2d(mask, kernel_size=2 * pixels + 1, stride=1, padding=pixels)


def grey_out(pixels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Set masked pixels (mask rounded) to mid grey, as inpainting encoders expect."""
    keep = 1.0 - mask.round().permute(0, 2, 3, 1)
    return (pixels - 0.5) * keep + 0.5


class VAEEncodeForInpaint(Node):
    """Encode an image for inpainting with an ordinary checkpoint: the masked area (grown by
    grow_mask_by) is greyed out before encoding and becomes the latent's noise mask."""

    display_name = "VAE Encode (for Inpainting)"
    category = "latent/inpaint"
    inputs = {"pixels": Image(), "vae": Vae(), "mask": Mask(), "grow_mask_by": Int(default=6, min=0, max=64, step=1)}
    outputs = {"LATENT": Latent()}

    def run(self, pixels, vae, mask, grow_mask_by):
        pixels = crop_to_multiple(pixels)
        m = grow(mask_like(mask, pixels), grow_mask_by).round()
        latent = vae.encode(grey_out(pixels, m))
        return {"samples": latent, "noise_mask": m[:, 0]}


class InpaintModelConditioning(Node):
    """Give 9-channel inpainting models the masked image and the mask through the
    conditioning; the latent is the encoded original (with a noise mask if asked)."""

    category = "conditioning/inpaint"
    inputs = {
        "positive": Conditioning(),
        "negative": Conditioning(),
        "vae": Vae(),
        "pixels": Image(),
        "mask": Mask(),
        "noise_mask": Boolean(default=True),
    }
    outputs = {
        "positive": Output("CONDITIONING", "positive"),
        "negative": Output("CONDITIONING", "negative"),
        "latent": Output("LATENT", "latent"),
    }

    def run(self, positive, negative, vae, pixels, mask, noise_mask):
        pixels = crop_to_multiple(pixels)
        m = mask_like(mask, pixels)
        original = vae.encode(pixels)
        concat = vae.encode(grey_out(pixels, m))
        options = {"concat_latent_image": concat, "concat_mask": m}
        latent = {"samples": original}
        if noise_mask:
            latent["noise_mask"] = m[:, 0]
        return (with_options(positive, options), with_options(negative, options), latent)


def with_options(conditioning: list, options: dict) -> list:
    """A copy of a CONDITIONING list with ``options`` added to every entry's dict."""
    return [[tensor, {**extra, **options}] for tensor, extra in conditioning]


class ImagePadForOutpaint(Node):
    """Pad an image for outpainting: new area grey, mask 1 there, feathered into the original."""

    display_name = "Pad Image for Outpainting"
    category = "image"
    inputs = {
        "image": Image(),
        "left": Int(default=0, min=0, max=MAX_RESOLUTION, step=8),
        "top": Int(default=0, min=0, max=MAX_RESOLUTION, step=8),
        "right": Int(default=0, min=0, max=MAX_RESOLUTION, step=8),
        "bottom": Int(default=0, min=0, max=MAX_RESOLUTION, step=8),
        "feathering": Int(default=40, min=0, max=MAX_RESOLUTION, step=1),
    }
    outputs = {"IMAGE": Image(), "MASK": Mask()}

    def run(self, image, left, top, right, bottom, feathering):
        batch, height, width, channels = image.shape
        out = torch.full((batch, height + top + bottom, width + left + right, channels), 0.5, dtype=image.dtype)
        out[:, top : top + height, left : left + width] = image
        mask = torch.ones((height + top + bottom, width + left + right), dtype=torch.float32)
        inner = torch.zeros((height, width), dtype=torch.float32)
        if feathering > 0 and feathering * 2 < min(height, width):
            ys = torch.arange(height, dtype=torch.float32)[:, None].expand(height, width)
            xs = torch.arange(width, dtype=torch.float32)[None, :].expand(height, width)
            big = torch.full((height, width), float(height + width))
            distance = torch.minimum(
                torch.minimum(xs if left else big, ys if top else big),
                torch.minimum((width - 1 - xs) if right else big, (height - 1 - ys) if bottom else big),
            )
            ramp = ((feathering - distance) / feathering).clamp(min=0)
            inner = ramp * ramp
        mask[top : top + height, left : left + width] = inner
        return out, mask[None]
