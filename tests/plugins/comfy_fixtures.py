"""A tiny real SD1 checkpoint loaded once, with ComfyUI's module names importable, for the tests of
NodeFlow's ComfyUI module surface (comfy.sd, comfy.samplers, comfy.sample, comfy.model_patcher ...)."""

from __future__ import annotations

import pytest

from nodeflow.comfy_compat import install
from tests.sd.tiny import write_tiny_sd1

install()


@pytest.fixture(scope="session")
def tiny_file(tmp_path_factory):
    return write_tiny_sd1(tmp_path_factory.mktemp("comfy_api") / "tiny_sd1.safetensors")


@pytest.fixture(scope="session")
def loaded(tiny_file):
    """(MODEL, CLIP, VAE) through comfy.sd, as a pack would load them."""
    import comfy.sd

    model, clip, vae, clip_vision = comfy.sd.load_checkpoint_guess_config(str(tiny_file))
    assert clip_vision is None
    return model, clip, vae


@pytest.fixture(scope="session")
def conds(loaded):
    """(positive, negative) CONDITIONING made by NodeFlow's own CLIPTextEncode path."""
    from nodeflow.nodes.conditioning import encode_text

    _, clip, _ = loaded
    return encode_text(None, clip, "a red star"), encode_text(None, clip, "")
