"""Quality bars of the committed demo pack, with fixed seeds on held-out prompts."""
import pytest

from nodeflow.demo import evaluate

PACK = evaluate.WEIGHTS


def need(path):
    if not path.exists():
        pytest.fail(f"{path} is missing: the demo pack is committed with the package; run its trainer")
    return path


def test_prompt_expander_writes_valid_captions_that_keep_every_word():
    need(PACK / "prompt_expanders" / "nodeflow-demo-expander" / "model.safetensors")
    report = evaluate.expander_quality(count=200)
    assert report["valid_and_complete"] >= 0.95, report
