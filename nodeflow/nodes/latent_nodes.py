"""Latent creation, VAE encode/decode (whole and tiled), resizing, compositing and batches."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nodeflow.imaging.crop import center_crop, crop_to_multiple
from nodeflow.schema.node import Node
from nodeflow.schema.types import MAX_RESOLUTION, Combo, Float, Image, Int, Latent, Mask, Vae

UPSCALE_METHODS = ["nearest-exact", "bilinear", "area", "bicubic", "bislerp"]


def _slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between channel vectors a and b ([N, C]) with weights t [N, 1]."""
    na, nb = a.norm(dim=1, keepdim=True), b.norm(dim=1, keepdim=True)
    ua, ub = a / na.clamp_min(1e-8), b / nb.clamp_min(1e-8)
    dot = (ua * ub).sum(1, keepdim=True).clamp(-1, 1)
    omega = torch.acos(dot)
    so = torch.sin(omega)
    direction = torch.where(
        so.abs() < 1e-4,
        (1 - t) * ua + t * ub,
        (torch.sin((1 - t) * omega) * ua + torch.sin(t * omega) * ub) / so.clamp_min(1e-8),
    )
    return direction * ((1 - t) * na + t * nb)


def _bislerp_axis(x: torch.Tensor, size: int, axis: int) -> torch.Tensor:
    """Resize ``x`` [B,C,H,W] along one spatial axis (2 or 3) by slerping neighbouring vectors."""
    length = x.shape[axis]
    pos = (torch.arange(size, dtype=torch.float32) + 0.5) * length / size - 0.5
    pos = pos.clamp(0, length - 1)
    lo = pos.floor().long()
    hi = (lo + 1).clamp(max=length - 1)
    t = pos - lo
    a, b = x.index_select(axis, lo), x.index_select(axis, hi)
    moved = [v.movedim(1, -1) for v in (a, b)]  # channels last
    shape = moved[0].shape
    tt = (
        t.view(*[size if d == axis else 1 for d in range(4)])
        .expand(x.shape[0], 1, *((size, x.shape[3]) if axis == 2 else (x.shape[2], size)))
        .movedim(1, -1)
        .reshape(-1, 1)
    )
    out = _slerp(moved[0].reshape(-1, shape[-1]), moved[1].reshape(-1, shape[-1]), tt)
    return out.reshape(shape).movedim(-1, 1)


def resize_latent(samples: torch.Tensor, width: int, height: int, method: str, crop: str = "disabled") -> torch.Tensor:
    """Resize latents to ``width`` x ``height`` latent pixels (crop 'center' keeps the aspect)."""
    if crop == "center":  # the image crop, on channels-last view of the latents
        samples = center_crop(samples.movedim(1, -1), width, height).movedim(-1, 1)
    if method == "bislerp":
        return _bislerp_axis(_bislerp_axis(samples.float(), height, 2), width, 3)
    if method not in UPSCALE_METHODS:
        raise ValueError(f"unknown upscale_method {method!r}; choose one of {UPSCALE_METHODS}")
    kwargs = {"align_corners": False} if method in ("bilinear", "bicubic") else {}
    return F.interpolate(samples.float(), size=(height, width), mode=method, **kwargs)


class EmptyLatentImage(Node):
    """A batch of empty (zero) latents of the given image size."""

    display_name = "Empty Latent Image"
    category = "latent"
    inputs = {
        "width": Int(default=512, min=16, max=MAX_RESOLUTION, step=8, tooltip="Image width in pixels."),
        "height": Int(default=512, min=16, max=MAX_RESOLUTION, step=8, tooltip="Image height in pixels."),
        "batch_size": Int(default=1, min=1, max=4096, tooltip="How many images to make at once."),
    }
    outputs = {"LATENT": Latent(tooltip="Empty latents for KSampler's latent_image.")}

    def run(self, width, height, batch_size):
        from nodeflow.models.families_sd import SD_LATENT

        fmt = (
            SD_LATENT  # EmptyLatentImage makes SD1/SD2/SDXL latents, as in ComfyUI (other families have their own node)
        )
        down = fmt.downscale
        return {"samples": torch.zeros(batch_size, fmt.channels, height // down, width // down)}


class VAEDecode(Node):
    """Turn latents back into pixels (tiles automatically when memory runs out)."""

    display_name = "VAE Decode"
    category = "latent"
    inputs = {
        "samples": Latent(tooltip="The latent to decode."),
        "vae": Vae(tooltip="The VAE that turns latents into pixels."),
    }
    outputs = {"IMAGE": Image(tooltip="The decoded image.")}

    def run(self, samples, vae):
        return vae.decode(samples["samples"])


class VAEEncode(Node):
    """Turn pixels into latents (the image is cropped to a multiple of 8)."""

    display_name = "VAE Encode"
    category = "latent"
    inputs = {"pixels": Image(), "vae": Vae()}
    outputs = {"LATENT": Latent()}

    def run(self, pixels, vae):

        return {"samples": vae.encode(crop_to_multiple(pixels, vae.downscale))}


class VAEDecodeTiled(Node):
    """Decode in overlapping tiles to bound memory on large images."""

    display_name = "VAE Decode (Tiled)"
    category = "_for_testing"
    inputs = {
        "samples": Latent(),
        "vae": Vae(),
        "tile_size": Int(default=512, min=64, max=4096, step=32),
        "overlap": Int(default=64, min=0, max=4096, step=32),
        "temporal_size": Int(default=64, min=8, max=4096, step=4),
        "temporal_overlap": Int(default=8, min=4, max=4096, step=4),
    }
    outputs = {"IMAGE": Image()}

    def run(self, samples, vae, tile_size, overlap, temporal_size=64, temporal_overlap=8):
        ratio = vae.downscale  # decode tiles are counted in latent pixels (ComfyUI's VAE.decode_tiled)
        return vae.decode_tiled(samples["samples"], tile_size // ratio, overlap=min(overlap, tile_size // 4) // ratio)


class VAEEncodeTiled(Node):
    """Encode in overlapping tiles to bound memory on large images."""

    display_name = "VAE Encode (Tiled)"
    category = "_for_testing"
    inputs = {
        "pixels": Image(),
        "vae": Vae(),
        "tile_size": Int(default=512, min=64, max=4096, step=64),
        "overlap": Int(default=64, min=0, max=4096, step=32),
        "temporal_size": Int(default=64, min=8, max=4096, step=4),
        "temporal_overlap": Int(default=8, min=4, max=4096, step=4),
    }
    outputs = {"LATENT": Latent()}

    def run(self, pixels, vae, tile_size, overlap, temporal_size=64, temporal_overlap=8):

        return {
            "samples": vae.encode_tiled(
                crop_to_multiple(pixels, vae.downscale), tile_x=tile_size, overlap=min(overlap, tile_size // 4)
            )
        }


class LatentUpscale(Node):
    """Resize latents to an image size (0 keeps the aspect ratio from the other side)."""

    display_name = "Upscale Latent"
    category = "latent"
    inputs = {
        "samples": Latent(),
        "upscale_method": Combo(choices=UPSCALE_METHODS),
        "width": Int(default=512, min=0, max=MAX_RESOLUTION, step=8),
        "height": Int(default=512, min=0, max=MAX_RESOLUTION, step=8),
        "crop": Combo(choices=["disabled", "center"]),
    }
    outputs = {"LATENT": Latent()}

    def run(self, samples, upscale_method, width, height, crop):
        s = samples["samples"]
        if width == 0 and height == 0:
            return samples
        if width == 0:  # keep the aspect ratio
            width = round(s.shape[3] * height / s.shape[2])
        if height == 0:
            height = round(s.shape[2] * width / s.shape[3])
        out = dict(samples)
        out["samples"] = resize_latent(s, max(1, width // 8), max(1, height // 8), upscale_method, crop)
        return out


class LatentUpscaleBy(Node):
    """Resize latents by a factor."""

    display_name = "Upscale Latent By"
    category = "latent"
    inputs = {
        "samples": Latent(),
        "upscale_method": Combo(choices=UPSCALE_METHODS),
        "scale_by": Float(default=1.5, min=0.01, max=8.0, step=0.01),
    }
    outputs = {"LATENT": Latent()}

    def run(self, samples, upscale_method, scale_by):
        s = samples["samples"]
        out = dict(samples)
        out["samples"] = resize_latent(
            s, max(1, round(s.shape[3] * scale_by)), max(1, round(s.shape[2] * scale_by)), upscale_method
        )
        return out


class LatentComposite(Node):
    """Paste samples_from into samples_to at (x, y) pixels, with a feathered edge."""

    display_name = "Latent Composite"
    category = "latent"
    inputs = {
        "samples_to": Latent(),
        "samples_from": Latent(),
        "x": Int(default=0, min=0, max=MAX_RESOLUTION, step=8),
        "y": Int(default=0, min=0, max=MAX_RESOLUTION, step=8),
        "feather": Int(default=0, min=0, max=MAX_RESOLUTION, step=8),
    }
    outputs = {"LATENT": Latent()}

    def run(self, samples_to, samples_from, x, y, feather):
        dst = samples_to["samples"].clone()
        src = samples_from["samples"]
        x, y, f = x // 8, y // 8, feather // 8
        h = min(src.shape[2], dst.shape[2] - y)
        w = min(src.shape[3], dst.shape[3] - x)
        if h <= 0 or w <= 0:
            return samples_to
        src = src[:, :, :h, :w].to(dst)
        src = src.repeat(-(-dst.shape[0] // src.shape[0]), 1, 1, 1)[: dst.shape[0]]
        mask = torch.ones(1, 1, h, w)
        for i in range(f):  # linear ramp on edges that are inside the destination
            v = (i + 1) / (f + 1)
            if y != 0:
                mask[:, :, i, :] = torch.minimum(mask[:, :, i, :], torch.tensor(v))
            if y + h < dst.shape[2]:
                mask[:, :, h - 1 - i, :] = torch.minimum(mask[:, :, h - 1 - i, :], torch.tensor(v))
            if x != 0:
                mask[:, :, :, i] = torch.minimum(mask[:, :, :, i], torch.tensor(v))
            if x + w < dst.shape[3]:
                mask[:, :, :, w - 1 - i] = torch.minimum(mask[:, :, :, w - 1 - i], torch.tensor(v))
        region = dst[:, :, y : y + h, x : x + w]
        dst[:, :, y : y + h, x : x + w] = src * mask + region * (1 - mask)
        out = dict(samples_to)
        out["samples"] = dst
        return out


class RepeatLatentBatch(Node):
    """Repeat the batch ``amount`` times (noise per item stays as in the full batch)."""

    display_name = "Repeat Latent Batch"
    category = "latent/batch"
    inputs = {"samples": Latent(), "amount": Int(default=1, min=1, max=64)}
    outputs = {"LATENT": Latent()}

    def run(self, samples, amount):
        s = samples["samples"]
        out = dict(samples.items())
        out["samples"] = s.repeat(amount, 1, 1, 1)
        if samples.get("noise_mask") is not None and samples["noise_mask"].shape[0] > 1:
            out["noise_mask"] = samples["noise_mask"].repeat(amount, *([1] * (samples["noise_mask"].dim() - 1)))
        if "batch_index" in samples:
            offset = max(samples["batch_index"]) - min(samples["batch_index"]) + 1
            out["batch_index"] = [i + k * offset for k in range(amount) for i in samples["batch_index"]]
        return out


class LatentFromBatch(Node):
    """Take ``length`` latents starting at ``batch_index``; their noise stays what it was in the batch."""

    display_name = "Latent From Batch"
    category = "latent/batch"
    inputs = {
        "samples": Latent(),
        "batch_index": Int(default=0, min=0, max=63),
        "length": Int(default=1, min=1, max=64),
    }
    outputs = {"LATENT": Latent()}

    def run(self, samples, batch_index, length):
        s = samples["samples"]
        start = min(batch_index, s.shape[0] - 1)
        length = min(s.shape[0] - start, length)
        out = dict(samples.items())
        out["samples"] = s[start : start + length].clone()
        mask = samples.get("noise_mask")
        if mask is not None and mask.shape[0] > 1:
            out["noise_mask"] = mask[start : start + length].clone()
        indices = samples.get("batch_index", list(range(s.shape[0])))
        out["batch_index"] = list(indices[start : start + length])
        return out


class SetLatentNoiseMask(Node):
    """Only the masked area (1) of the latent is re-generated when sampling."""

    display_name = "Set Latent Noise Mask"
    category = "latent/inpaint"
    inputs = {"samples": Latent(), "mask": Mask()}
    outputs = {"LATENT": Latent()}

    def run(self, samples, mask):
        out = dict(samples)
        out["noise_mask"] = mask.reshape(-1, mask.shape[-2], mask.shape[-1]).float()
        return out
