"""The demo data set: reproducible scenes, captions that name every label, pixels that match."""

import random

import numpy as np

from nodeflow.demo.shapes import BACKGROUNDS, COLOURS, POSITIONS, caption, random_scene, render, shape_mask


def test_same_seed_same_scenes_and_pixels():
    a = [random_scene(random.Random(7)) for _ in range(3)]
    b = [random_scene(random.Random(7)) for _ in range(3)]
    assert a == b
    assert np.array_equal(np.asarray(render(a[0])), np.asarray(render(b[0])))


def test_caption_names_every_label():
    rng = random.Random(3)
    for _ in range(200):
        scene = random_scene(rng)
        text = caption(scene)
        assert text.startswith("a ") and f"on a {scene.background} background" in text
        for shape in scene.shapes:
            assert f"{shape.size} {shape.colour} {shape.kind}" in text and shape.position in text


def test_shape_pixels_have_the_named_colour_and_background_elsewhere():
    rng = random.Random(11)
    for _ in range(50):
        scene = random_scene(rng, max_shapes=1)
        pixels = np.asarray(render(scene, 64)).astype(int)
        mask = np.asarray(shape_mask(scene, 0, 64)) > 0
        inside = pixels[mask].reshape(-1, 3).mean(0)
        assert np.abs(inside - COLOURS[scene.shapes[0].colour]).max() < 60, (scene, inside)
        corner_far = {
            "top left": (63, 63),
            "top right": (63, 0),
            "bottom left": (0, 63),
            "bottom right": (0, 0),
            "center": (0, 0),
        }[scene.shapes[0].position]
        assert scene.shapes[0].position in POSITIONS
        assert np.abs(pixels[corner_far] - BACKGROUNDS[scene.background]).max() < 5


def test_parse_caption_inverts_caption_and_rejects_other_text():
    from nodeflow.demo.shapes import parse_caption

    rng = random.Random(5)
    for _ in range(300):
        scene = random_scene(rng)
        assert parse_caption(caption(scene)) == scene
    for bad in (
        "a red star",
        "a large red star on a blue background, top left",
        "",
        "a large red star on a black background, top left and top right",
    ):
        assert parse_caption(bad) is None, bad
