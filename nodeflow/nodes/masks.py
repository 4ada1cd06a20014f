"""Mask nodes: solid, invert, convert to and from images, grow, feather."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nodeflow.imaging.convert import as_mask
from nodeflow.schema.node import Node
from nodeflow.schema.types import MAX_RESOLUTION, Boolean, Combo, Float, Image, Int, Mask


class SolidMask(Node):
    category = "mask"
    inputs = {
        "value": Float(default=1.0, min=0.0, max=1.0, step=0.01),
        "width": Int(default=512, min=1, max=MAX_RESOLUTION, step=1),
        "height": Int(default=512, min=1, max=MAX_RESOLUTION, step=1),
    }
    outputs = {"MASK": Mask()}

    def run(self, value, width, height):
        return torch.full((1, height, width), value, dtype=torch.float32)


class InvertMask(Node):
    category = "mask"
    inputs = {"mask": Mask()}
    outputs = {"MASK": Mask()}

    def run(self, mask):
        return 1.0 - as_mask(mask)


class MaskToImage(Node):
    display_name = "Convert Mask to Image"
    category = "mask"
    inputs = {"mask": Mask()}
    outputs = {"IMAGE": Image()}

    def run(self, mask):
        return as_mask(mask)[..., None].expand(-1, -1, -1, 3).clone()


class ImageToMask(Node):
    display_name = "Convert Image to Mask"
    category = "mask"
    inputs = {"image": Image(), "channel": Combo(choices=["red", "green", "blue", "alpha"])}
    outputs = {"MASK": Mask()}

    def run(self, image, channel):
        index = ["red", "green", "blue", "alpha"].index(channel)
        if index >= image.shape[-1]:
            raise ValueError(f"the image has no {channel} channel ({image.shape[-1]} channels); pick another")
        return image[..., index].clone()


class GrowMask(Node):
    """Grow (positive) or shrink (negative) a mask by whole pixels."""

    display_name = "Grow Mask"
    category = "mask"
    inputs = {
        "mask": Mask(),
        "expand": Int(default=0, min=-MAX_RESOLUTION, max=MAX_RESOLUTION, step=1),
        "tapered_corners": Boolean(default=True),
    }
    outputs = {"MASK": Mask()}

    def run(self, mask, expand, tapered_corners):
        m = as_mask(mask).float()[:, None]
        # One pixel per pass: a cross kernel (tapered) or a full 3x3 square.
        kernel = torch.tensor(
            [[0, 1, 0], [1, 1, 1], [0, 1, 0]] if tapered_corners else [[1, 1, 1]] * 3, dtype=torch.float32
        )
        for _ in range(abs(expand)):
            padded = F.pad(m, (1, 1, 1, 1), mode="replicate")
            patches = F.unfold(padded, 3).view(m.shape[0], 9, *m.shape[2:])
            selected = patches[:, kernel.flatten().bool()]
            m = (selected.amax(1) if expand > 0 else selected.amin(1))[:, None]
        return m[:, 0]


class FeatherMask(Node):
    """Fade a mask towards its edges over the given widths."""

    category = "mask"
    inputs = {
        "mask": Mask(),
        "left": Int(default=0, min=0, max=MAX_RESOLUTION, step=1),
        "top": Int(default=0, min=0, max=MAX_RESOLUTION, step=1),
        "right": Int(default=0, min=0, max=MAX_RESOLUTION, step=1),
        "bottom": Int(default=0, min=0, max=MAX_RESOLUTION, step=1),
    }
    outputs = {"MASK": Mask()}

    def run(self, mask, left, top, right, bottom):
        out = as_mask(mask).clone().float()
        _, _h, _w = out.shape
        for size, axis, from_end in ((left, 2, False), (right, 2, True), (top, 1, False), (bottom, 1, True)):
            n = min(size, out.shape[axis])
            if n <= 0:
                continue
            ramp = (torch.arange(n, dtype=torch.float32) + 1) / n
            if from_end:
                ramp = ramp.flip(0)
            shape = [1, 1, 1]
            shape[axis] = n
            idx = slice(out.shape[axis] - n, None) if from_end else slice(0, n)
            if axis == 2:
                out[:, :, idx] *= ramp.view(shape)
            else:
                out[:, idx, :] *= ramp.view(shape)
        return out
