"""The shipped judge reads colour and shape of freshly rendered scenes it never saw."""

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from nodeflow.demo.judge import load_judge
from nodeflow.demo.shapes import random_scene, render

WEIGHTS = Path(__file__).resolve().parents[2] / "nodeflow" / "demo" / "weights" / "judge.safetensors"


@pytest.mark.slow  # accuracy of the trained judge on rendered scenes
def test_judge_accuracy_on_real_images():
    judge = load_judge(WEIGHTS)
    rng = random.Random(2024)
    scenes = [random_scene(rng, max_shapes=1) for _ in range(200)]
    images = torch.from_numpy(np.stack([np.asarray(render(s, 64, jitter=rng)) for s in scenes])).float() / 255
    verdicts = judge.classify(images)
    colour_ok = sum(v[0] == s.shapes[0].colour for v, s in zip(verdicts, scenes, strict=False))
    shape_ok = sum(v[1] == s.shapes[0].kind for v, s in zip(verdicts, scenes, strict=False))
    assert colour_ok >= 196 and shape_ok >= 190, (colour_ok, shape_ok)


def test_judge_accepts_other_sizes():
    judge = load_judge(WEIGHTS)
    scene = random_scene(random.Random(5), max_shapes=1)
    big = torch.from_numpy(np.asarray(render(scene, 256))).float()[None] / 255
    assert judge.classify(big)[0] == (scene.shapes[0].colour, scene.shapes[0].kind)
