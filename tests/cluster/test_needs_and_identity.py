"""Which models a prompt needs, named by content: the same bytes under two names are one model,
a changed byte is another, and a model no worker has is reported with its node and input."""

from nodeflow.cluster.identity import file_identity, inventory, paths_to_identities
from nodeflow.cluster.needs import identities, needed_models
from nodeflow.folders import Folders
from nodeflow.schema.registry import builtin_registry


def test_identity_follows_content_not_name(tmp_path):
    data = bytes(range(256)) * 20000  # ~5 MB: three windows apart
    (tmp_path / "a.safetensors").write_bytes(data)
    (tmp_path / "copy.safetensors").write_bytes(data)
    changed = bytearray(data)
    changed[len(data) // 2] ^= 1
    (tmp_path / "changed.safetensors").write_bytes(bytes(changed))
    ids = {
        name: file_identity(tmp_path / name) for name in ("a.safetensors", "copy.safetensors", "changed.safetensors")
    }
    assert ids["a.safetensors"] == ids["copy.safetensors"] != ids["changed.safetensors"]


def test_needed_models_by_kind_and_the_ones_no_worker_has(tmp_path):
    env = Folders(tmp_path)
    env.ensure()
    (env.models_dir / "checkpoints" / "one.safetensors").write_bytes(b"one" * 100)
    (env.models_dir / "loras" / "style.safetensors").write_bytes(b"lora" * 100)
    offered = inventory(env)
    assert set(offered) == {"checkpoints", "loras"}
    by_path = paths_to_identities(env, offered)
    assert by_path[str(env.models_dir / "checkpoints" / "one.safetensors")] == offered["checkpoints"]["one.safetensors"]
    prompt = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "one.safetensors"}},
        "2": {
            "class_type": "LoraLoader",
            "inputs": {
                "model": ["1", 0],
                "clip": ["1", 1],
                "lora_name": "style.safetensors",
                "strength_model": 1.0,
                "strength_clip": 1.0,
            },
        },
        "3": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "absent.safetensors"}},
        "4": {"class_type": "SomePluginLoader", "inputs": {"model": "style.safetensors"}},
    }
    needed, missing = needed_models(builtin_registry(), prompt, offered)
    assert needed == {("checkpoints", "one.safetensors"), ("loras", "style.safetensors")}
    assert missing == [("3", "ckpt_name", "checkpoints", "absent.safetensors")]
    assert identities(needed, offered) == {
        offered["checkpoints"]["one.safetensors"],
        offered["loras"]["style.safetensors"],
    }
