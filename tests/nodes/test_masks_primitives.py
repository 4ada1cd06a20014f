"""Mask nodes and primitives with hand-checked values."""

import torch

from nodeflow.nodes.masks import FeatherMask, GrowMask, ImageToMask, InvertMask, MaskToImage, SolidMask
from nodeflow.nodes.primitives import PrimitiveInt, StringConcatenate


def dot():
    m = torch.zeros(1, 5, 5)
    m[0, 2, 2] = 1
    return m


def test_solid_invert_convert():
    solid = SolidMask().run(0.25, 3, 2)
    assert solid.shape == (1, 2, 3) and torch.allclose(solid, torch.tensor(0.25))
    assert torch.allclose(InvertMask().run(solid), torch.tensor(0.75))
    image = MaskToImage().run(solid)
    assert image.shape == (1, 2, 3, 3)
    assert torch.allclose(ImageToMask().run(image, "green"), solid)


def test_grow_and_shrink():
    assert GrowMask().run(dot(), 1, True).sum() == 5  # a plus sign
    assert GrowMask().run(dot(), 1, False).sum() == 9  # a 3x3 square
    assert GrowMask().run(dot(), 2, False).sum() == 25
    assert GrowMask().run(GrowMask().run(dot(), 1, False), -1, False).sum() == 1
    assert torch.equal(GrowMask().run(dot(), 0, True), dot())


def test_feather_ramps():
    out = FeatherMask().run(torch.ones(1, 4, 4), 4, 0, 0, 0)
    assert torch.allclose(out[0, 0], torch.tensor([0.25, 0.5, 0.75, 1.0]))
    out = FeatherMask().run(torch.ones(1, 4, 4), 0, 0, 0, 2)
    assert torch.allclose(out[0, :, 0], torch.tensor([1.0, 1.0, 1.0, 0.5]))


def test_primitives():
    assert PrimitiveInt().run(5) == 5
    assert StringConcatenate().run("a", "b", ", ") == "a, b"
