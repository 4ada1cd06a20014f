"""extra_model_paths.yaml: other installs' model folders and custom_nodes folders."""

import pytest

from nodeflow.models.extra_paths import load_extra_model_paths
from nodeflow.runtime import build_runtime


def write_config(tmp_path):
    other = tmp_path / "ComfyUI"
    (other / "models" / "checkpoints").mkdir(parents=True)
    (other / "models" / "checkpoints" / "other.safetensors").write_bytes(b"x")
    (other / "custom_nodes" / "far_pack").mkdir(parents=True)
    (other / "custom_nodes" / "far_pack" / "__init__.py").write_text(
        "from nodeflow.api import Node, Int, Socket\n"
        "class FarNode(Node):\n    inputs = {'v': Int()}\n    outputs = {'INT': Socket('INT')}\n"
        "    def run(self, v):\n        return v\n"
    )
    a1111 = tmp_path / "webui"
    for folder in ("models/Lora", "models/LyCORIS"):
        (a1111 / folder).mkdir(parents=True)
    base = tmp_path / "base"
    base.mkdir()
    (base / "extra_model_paths.yaml").write_text(
        "comfyui:\n    base_path: ../ComfyUI/\n    checkpoints: models/checkpoints/\n    custom_nodes: custom_nodes/\n"
        "a111:\n    base_path: ../webui\n    loras: |\n        models/Lora\n        models/LyCORIS\n"
    )
    return base


def test_parse_sections_multiline_values_and_relative_base(tmp_path):
    base = write_config(tmp_path)
    paths = load_extra_model_paths(base / "extra_model_paths.yaml")
    assert paths["checkpoints"] == [str((tmp_path / "ComfyUI" / "models" / "checkpoints").resolve())]
    assert [p.rsplit("/", 1)[1] for p in paths["loras"]] == ["Lora", "LyCORIS"]
    assert paths["custom_nodes"] == [str((tmp_path / "ComfyUI" / "custom_nodes").resolve())]


def test_runtime_uses_extra_model_folders_and_plugin_folders(tmp_path):
    base = write_config(tmp_path)
    runtime = build_runtime(base)
    assert "other.safetensors" in runtime.env.list_files("checkpoints")
    assert "FarNode" in runtime.registry
    assert any(s.name == "far_pack" and s.ok for s in runtime.plugin_status)


def test_malformed_config_names_the_file(tmp_path):
    bad = tmp_path / "extra_model_paths.yaml"
    bad.write_text("comfyui: [1, 2\n")
    with pytest.raises(ValueError, match=r"extra_model_paths\.yaml"):
        load_extra_model_paths(bad)
    bad.write_text("comfyui: just a string\n")
    with pytest.raises(ValueError, match="must map folder names"):
        load_extra_model_paths(bad)


def test_runtime_starts_with_a_broken_config(tmp_path):
    (tmp_path / "extra_model_paths.yaml").write_text("comfyui: [1, 2\n")
    runtime = build_runtime(tmp_path, custom_nodes=False)
    assert "EmptyImage" in runtime.registry
