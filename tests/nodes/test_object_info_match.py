"""Every built-in node that ComfyUI also has publishes the same /object_info entry: input names
and order, types, defaults, ranges, combo options (all 44 samplers and 9 schedulers, in ComfyUI's
order), outputs, names, category, output_node."""

import json
from pathlib import Path

import pytest

from nodeflow.folders import Folders
from nodeflow.schema.registry import builtin_registry

REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "data" / "core_nodes_object_info.json").read_text())
REGISTRY = builtin_registry()
SHARED = sorted(set(REFERENCE) & set(REGISTRY.names()))
FILE_COMBOS = {
    ("LoadImage", "image"),
    ("LoadImageMask", "image"),
    ("CheckpointLoaderSimple", "ckpt_name"),
    ("CheckpointLoader", "ckpt_name"),
    ("VAELoader", "vae_name"),
    ("UNETLoader", "unet_name"),
    ("CLIPLoader", "clip_name"),
    ("LoraLoader", "lora_name"),
    ("LoraLoaderModelOnly", "lora_name"),
    ("DiffusersLoader", "model_path"),
    ("LoadLatent", "latent"),
    ("UpscaleModelLoader", "model_name"),
}
COMPARED_OPTIONS = ("default", "min", "max", "step", "round", "multiline", "control_after_generate", "image_upload")


def combo_list(spec):
    return list(spec[1].get("options", [])) if spec[0] == "COMBO" else list(spec[0])


def normalise(entry, spec, name):
    """[type, options] with COMBO written either way -> (type or options list, chosen options)."""
    kind = spec[0]
    options = dict(spec[1]) if len(spec) > 1 else {}
    if kind == "COMBO":
        kind = list(options.pop("options", []))
    if isinstance(kind, list) and (entry, name) in FILE_COMBOS:
        kind = "<files>"
    return kind, {k: options[k] for k in COMPARED_OPTIONS if k in options}


def test_every_implemented_core_node_is_compared():
    assert len(SHARED) >= 25, SHARED


@pytest.mark.parametrize("name", SHARED)
def test_object_info_matches_reference(name, tmp_path):
    env = Folders(tmp_path)
    ours = REGISTRY.get(name).object_info(env)
    ref = REFERENCE[name]
    for section in ("required", "optional"):
        ref_inputs = ref["input"].get(section, {})
        our_inputs = ours["input"].get(section, {})
        assert list(our_inputs) == list(ref_inputs), (section, list(our_inputs))
        for input_name, ref_spec in ref_inputs.items():
            assert normalise(name, our_inputs[input_name], input_name) == normalise(name, ref_spec, input_name), (
                input_name
            )
    assert ours["input"].get("hidden", {}) == ref["input"].get("hidden", {})
    assert ours["input_order"] == ref["input_order"]
    for key in ("output", "output_is_list", "output_name", "category", "output_node"):
        assert ours[key] == ref[key], key
    assert ours["display_name"] == (ref["display_name"] or name)
