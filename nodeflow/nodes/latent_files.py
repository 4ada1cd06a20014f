"""SaveLatent / LoadLatent (``.latent`` files: safetensors with ``latent_tensor``) and the
output-file naming shared with CheckpointSave."""
from __future__ import annotations

import os
import re
from pathlib import Path

import torch

from nodeflow.folders import UnsafePath, safe_join
from nodeflow.schema.node import Node, NodeResult
from nodeflow.schema.types import Combo, Hidden, Latent, String

VERSION_MARK = "latent_format_version_0"


def output_file(env, prefix: str, suffix: str) -> tuple[Path, dict]:
    """A new ``{prefix}_{counter:05}_{suffix}`` path in the output folder (contained) and its
    ui record."""
    base = env.directory("output")
    prefix = prefix.strip() or "NodeFlow"
    subfolder, _, stem = prefix.replace("\\", "/").rpartition("/")
    try:
        folder = safe_join(base, subfolder) if subfolder else base
        safe_join(base, *(p for p in (subfolder, stem) if p))
    except UnsafePath as exc:
        raise ValueError(f"filename_prefix {prefix!r} would write outside the output folder: {exc}") from None
    folder.mkdir(parents=True, exist_ok=True)
    pattern = re.compile(rf"^{re.escape(stem)}_(\d+)_{re.escape(suffix)}$")
    counter = 1 + max((int(m.group(1)) for m in map(pattern.match, os.listdir(folder)) if m), default=0)
    name = f"{stem}_{counter:05}_{suffix}"
    return safe_join(folder, name), {"filename": name, "subfolder": subfolder, "type": "output"}


class SaveLatent(Node):
    """Save latents to the output folder as a .latent file (safetensors) to reuse later."""
    category = "_for_testing"
    output_node = True
    inputs = {"samples": Latent(), "filename_prefix": String(default="latents/ComfyUI"),
              "prompt": Hidden("PROMPT"), "extra_pnginfo": Hidden("EXTRA_PNGINFO")}
    outputs = {}

    def run(self, samples, filename_prefix, prompt=None, extra_pnginfo=None):
        import json

        from safetensors.torch import save_file

        path, record = output_file(self.ctx.env, filename_prefix, ".latent")
        metadata = {"prompt": json.dumps(prompt)} if prompt is not None else {}
        for key, value in (extra_pnginfo or {}).items():
            metadata[str(key)] = json.dumps(value)
        tensors = {"latent_tensor": samples["samples"].contiguous(), VERSION_MARK: torch.tensor([])}
        save_file(tensors, str(path), metadata=metadata)
        return NodeResult(ui={"latents": [record]})


def _latent_files(env) -> list[str]:
    return [n for n in env.list_files("input") if n.endswith(".latent")] if env is not None else []


class LoadLatent(Node):
    """Load a .latent file from the input folder."""
    category = "_for_testing"
    inputs = {"latent": Combo(choices=_latent_files)}
    outputs = {"LATENT": Latent()}

    @classmethod
    def fingerprint(cls, env, latent):
        path = env.annotated_path(latent)
        st = path.stat()
        return f"{path}:{st.st_size}:{st.st_mtime_ns}"

    def run(self, latent):
        from safetensors.torch import load_file

        path = self.ctx.env.annotated_path(latent)
        try:
            data = load_file(str(path))
        except Exception as exc:
            raise ValueError(f"{latent} is not a readable .latent file ({exc})") from None
        if "latent_tensor" not in data:
            raise ValueError(f"{latent} has no latent_tensor; it was not written by SaveLatent")
        scale = 1.0 if VERSION_MARK in data else 1.0 / 0.18215  # the oldest format stored unscaled latents
        return {"samples": data["latent_tensor"].float() * scale}
