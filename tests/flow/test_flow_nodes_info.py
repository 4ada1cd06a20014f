"""The SD3 / Flux nodes publish ComfyUI's names, inputs (order, defaults, ranges), outputs and
categories (from ComfyUI's node reference; DualCLIPLoader is also checked against the reference
object_info in tests/nodes/test_object_info_match.py)."""

import pytest

from nodeflow.folders import Folders
from nodeflow.schema.registry import builtin_registry

REGISTRY = builtin_registry()
F = "FLOAT"
EXPECTED = {
    "ModelSamplingSD3": (
        "advanced/model",
        [("model", "MODEL", {}), ("shift", F, {"default": 3.0, "min": 0.0, "max": 100.0, "step": 0.01})],
        ["MODEL"],
    ),
    "ModelSamplingAuraFlow": (
        "advanced/model",
        [("model", "MODEL", {}), ("shift", F, {"default": 1.73, "min": 0.0, "max": 100.0, "step": 0.01})],
        ["MODEL"],
    ),
    "ModelSamplingFlux": (
        "advanced/model",
        [
            ("model", "MODEL", {}),
            ("max_shift", F, {"default": 1.15, "min": 0.0, "max": 100.0, "step": 0.01}),
            ("base_shift", F, {"default": 0.5, "min": 0.0, "max": 100.0, "step": 0.01}),
            ("width", "INT", {"default": 1024, "min": 16, "step": 8}),
            ("height", "INT", {"default": 1024, "min": 16, "step": 8}),
        ],
        ["MODEL"],
    ),
    "FluxGuidance": (
        "advanced/conditioning/flux",
        [
            ("conditioning", "CONDITIONING", {}),
            ("guidance", F, {"default": 3.5, "min": 0.0, "max": 100.0, "step": 0.1}),
        ],
        ["CONDITIONING"],
    ),
    "CLIPTextEncodeFlux": (
        "advanced/conditioning/flux",
        [
            ("clip", "CLIP", {}),
            ("clip_l", "STRING", {"multiline": True}),
            ("t5xxl", "STRING", {"multiline": True}),
            ("guidance", F, {"default": 3.5, "min": 0.0, "max": 100.0, "step": 0.1}),
        ],
        ["CONDITIONING"],
    ),
    "CLIPTextEncodeSD3": (
        "advanced/conditioning",
        [
            ("clip", "CLIP", {}),
            ("clip_l", "STRING", {"multiline": True}),
            ("clip_g", "STRING", {"multiline": True}),
            ("t5xxl", "STRING", {"multiline": True}),
            ("empty_padding", ["none", "empty_prompt"], {}),
        ],
        ["CONDITIONING"],
    ),
    "EmptySD3LatentImage": (
        "latent/sd3",
        [
            ("width", "INT", {"default": 1024, "min": 16, "step": 16}),
            ("height", "INT", {"default": 1024, "min": 16, "step": 16}),
            ("batch_size", "INT", {"default": 1, "min": 1, "max": 4096}),
        ],
        ["LATENT"],
    ),
    "TripleCLIPLoader": (
        "advanced/loaders",
        [("clip_name1", None, {}), ("clip_name2", None, {}), ("clip_name3", None, {})],
        ["CLIP"],
    ),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_node_matches_comfyui(name, tmp_path):
    category, inputs, outputs = EXPECTED[name]
    info = REGISTRY.get(name).object_info(Folders(tmp_path))
    required = info["input"]["required"]
    assert list(required) == [n for n, _, _ in inputs]
    for input_name, kind, options in inputs:
        spec = required[input_name]
        if kind is not None:
            got = spec[1].get("options") if spec[0] == "COMBO" else spec[0]
            assert got == kind, input_name
        for key, value in options.items():
            assert spec[1].get(key) == value, (input_name, key)
    assert info["output"] == outputs and info["category"] == category
