"""Image transforms on small tensors with hand-checked values."""

import torch

from nodeflow.nodes.image_ops import (
    EmptyImage,
    ImageBatch,
    ImageBlend,
    ImageCompositeMasked,
    ImageCrop,
    ImageInvert,
    ImageScale,
    ImageScaleBy,
)


def test_scale_methods_and_aspect():
    img = torch.rand(2, 4, 8, 3)
    for method in ("nearest-exact", "bilinear", "area", "bicubic", "lanczos"):
        assert ImageScale().run(img, method, 16, 8, "disabled").shape == (2, 8, 16, 3)
    assert ImageScale().run(img, "area", 4, 0, "disabled").shape == (2, 2, 4, 3)  # height from aspect
    assert ImageScale().run(img, "bilinear", 4, 4, "center").shape == (2, 4, 4, 3)
    assert ImageScaleBy().run(img, "nearest-exact", 0.5).shape == (2, 2, 4, 3)
    flat = torch.full((1, 4, 4, 3), 0.25)
    assert torch.allclose(ImageScale().run(flat, "bicubic", 9, 9, "disabled"), torch.tensor(0.25), atol=1e-4)


def test_invert_crop_batch_empty():
    img = torch.rand(1, 6, 6, 3)
    assert torch.allclose(ImageInvert().run(img), 1 - img)
    crop = ImageCrop().run(img, 3, 2, 1, 4)
    assert crop.shape == (1, 2, 3, 3) and torch.equal(crop, img[:, 4:6, 1:4])
    assert ImageBatch().run(img, torch.rand(2, 3, 3, 3)).shape == (3, 6, 6, 3)
    empty = EmptyImage().run(2, 3, 2, 0xFF8000)
    assert empty.shape == (2, 3, 2, 3)
    assert torch.allclose(empty[0, 0, 0], torch.tensor([1.0, 128 / 255, 0.0]))


def test_blend_modes():
    a, b = torch.full((1, 1, 1, 3), 0.25), torch.full((1, 1, 1, 3), 0.5)
    expected = {
        "normal": 0.5,
        "multiply": 0.125,
        "screen": 0.625,
        "overlay": 0.25,
        "difference": 0.25,
        "soft_light": 0.25,
    }
    for mode, value in expected.items():
        assert torch.allclose(ImageBlend().run(a, b, 1.0, mode), torch.tensor(value)), mode
    assert torch.allclose(ImageBlend().run(a, b, 0.5, "normal"), torch.tensor(0.375))


def test_composite_with_and_without_mask():
    dest, src = torch.zeros(1, 4, 4, 3), torch.ones(1, 2, 2, 3)
    out = ImageCompositeMasked().run(dest, src, 1, 1, False)
    assert out[0, 1:3, 1:3].min() == 1 and out.sum() == 12
    mask = torch.tensor([[[1.0, 0.0], [0.0, 0.5]]])
    out = ImageCompositeMasked().run(dest, src, 2, 2, False, mask)
    assert out[0, 2, 2, 0] == 1 and out[0, 2, 3, 0] == 0 and out[0, 3, 3, 0] == 0.5
    assert ImageCompositeMasked().run(dest, src, 3, 3, False).sum() == 3  # clipped at the edge
    assert ImageCompositeMasked().run(dest, src, 0, 0, True).min() == 1  # resized to the destination
