"""Quality bars of the committed demo pack, with fixed seeds on held-out prompts."""

import pytest

from nodeflow.demo import evaluate
from nodeflow.demo.plan import pack_path

pytestmark = pytest.mark.slow  # quality bars of the trained demo weights: minutes of sampling


def need(path):
    if not path.exists():
        pytest.fail(f"{path} is missing: the demo pack is committed with the package; run its trainer")
    return path


def test_prompt_expander_writes_valid_captions_that_keep_every_word():
    need(pack_path("expander") / "model.safetensors")
    report = evaluate.expander_quality(count=200)
    assert report["valid_and_complete"] >= 0.95, report


def test_inpainting_takes_the_prompted_colour_and_keeps_the_rest():
    need(pack_path("inpaint_unet"))
    report = evaluate.inpaint_quality(count=100)
    assert report["prompted_colour_rate"] >= 0.85, report
    assert report["unmasked_mean_abs_error"] < 0.05, report


def test_text_to_image_draws_the_prompted_colour_and_shape():
    need(pack_path("checkpoint"))
    report = evaluate.evaluate(count=100)
    assert report["colour_accuracy"] >= 0.90 and report["shape_accuracy"] >= 0.70, report


def test_gan_upscaler_beats_bicubic_by_2_db():
    need(pack_path("upscaler"))
    report = evaluate.upscaler_quality()
    assert report["gain_db"] >= 2.0, report
