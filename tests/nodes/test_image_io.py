"""LoadImage / LoadImageMask / SaveImage / PreviewImage on real files."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from nodeflow.nodes.image_io import LoadImage, LoadImageMask, PreviewImage, SaveImage


def write_rgba(env, name="a.png", size=(4, 3)):
    array = np.zeros((size[1], size[0], 4), dtype=np.uint8)
    array[..., 0] = 255
    array[..., 3] = 255
    array[0, 0, 3] = 0  # one transparent pixel
    Image.fromarray(array, "RGBA").save(env.input_dir / name)


def test_load_image_gives_image_and_inverted_alpha_mask(env, node):
    write_rgba(env)
    image, mask = node(LoadImage).run("a.png")
    assert image.shape == (1, 3, 4, 3) and torch.allclose(image[..., 0], torch.ones(1, 3, 4))
    assert mask.shape == (1, 3, 4) and mask[0, 0, 0] == 1 and mask[0, 1, 1] == 0


def test_load_image_without_alpha_and_annotated_names(env, node):
    Image.new("RGB", (5, 5), (0, 255, 0)).save(env.output_dir / "g.png")
    image, mask = node(LoadImage).run("g.png [output]")
    assert image.shape == (1, 5, 5, 3) and mask.shape == (1, 64, 64) and mask.max() == 0


def test_load_image_validation_and_fingerprint(env):
    write_rgba(env)
    assert LoadImage.validate(env, image="a.png") is True
    assert "not found" in LoadImage.validate(env, image="missing.png")
    assert "safe" in LoadImage.validate(env, image="../x.png")
    before = LoadImage.fingerprint(env, image="a.png")
    Image.new("RGBA", (4, 3)).save(env.input_dir / "a.png")
    assert LoadImage.fingerprint(env, image="a.png") != before


def test_load_image_mask_channels(env, node):
    array = np.zeros((2, 2, 4), dtype=np.uint8)
    array[..., 0] = 255
    array[..., 3] = 51
    Image.fromarray(array, "RGBA").save(env.input_dir / "m.png")
    assert torch.allclose(node(LoadImageMask).run("m.png", "red"), torch.ones(1, 2, 2))
    assert torch.allclose(node(LoadImageMask).run("m.png", "alpha"), torch.full((1, 2, 2), 0.8))
    assert node(LoadImageMask).run("m.png", "green").max() == 0


def test_save_image_names_counter_and_metadata(env, node):
    images = torch.rand(2, 8, 8, 3)
    result = node(SaveImage).run(
        images, "shots/test", prompt={"1": {"class_type": "X"}}, extra_pnginfo={"workflow": {"nodes": []}}
    )
    names = [r["filename"] for r in result.ui["images"]]
    assert names == ["test_00001_.png", "test_00002_.png"]
    assert result.ui["images"][0] == {"filename": "test_00001_.png", "subfolder": "shots", "type": "output"}
    again = node(SaveImage).run(images[:1], "shots/test")
    assert again.ui["images"][0]["filename"] == "test_00003_.png"
    with Image.open(env.output_dir / "shots" / "test_00001_.png") as img:
        assert json.loads(img.text["prompt"]) == {"1": {"class_type": "X"}}
        assert json.loads(img.text["workflow"]) == {"nodes": []}
        saved = np.asarray(img, dtype=np.float32) / 255
    assert np.abs(saved - images[0].numpy()).max() <= 0.5 / 255 + 1e-6


def test_save_image_refuses_prefixes_that_escape(env, node):
    for prefix in ("../evil", "/abs/x", "a/../../b"):
        with pytest.raises(ValueError, match="outside"):
            node(SaveImage).run(torch.rand(1, 4, 4, 3), prefix)


def test_save_image_unwritable_folder_names_the_folder(env, node):
    (env.output_dir / "sub").write_text("a file where a folder should be")  # root ignores chmod; this cannot be written
    with pytest.raises(OSError, match="cannot write images"):
        node(SaveImage).run(torch.rand(1, 4, 4, 3), "sub/x")


def test_preview_image_goes_to_temp(env, node):
    result = node(PreviewImage).run(torch.rand(1, 4, 4, 3))
    record = result.ui["images"][0]
    assert record["type"] == "temp" and (env.temp_dir / record["filename"]).exists()
