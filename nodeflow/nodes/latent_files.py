"""SaveLatent / LoadLatent (``.latent`` files: safetensors with ``latent_tensor``)."""

from __future__ import annotations

import torch

from nodeflow.schema.node import Node, NodeResult
from nodeflow.schema.types import Combo, Hidden, Latent, String

from .output_names import output_file

VERSION_MARK = "latent_format_version_0"


class SaveLatent(Node):
    """Save latents to the output folder as a .latent file (safetensors) to reuse later."""

    category = "_for_testing"
    output_node = True
    inputs = {
        "samples": Latent(),
        "filename_prefix": String(default="latents/ComfyUI"),
        "prompt": Hidden("PROMPT"),
        "extra_pnginfo": Hidden("EXTRA_PNGINFO"),
    }
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
        from nodeflow.models.families_sd import SD_LATENT

        # marked files hold LATENTs as they are (unscaled); unmarked ones are older and hold SD1's
        # scaled latents, as ComfyUI reads them
        scale = 1.0 if VERSION_MARK in data else 1.0 / SD_LATENT.scale_factor
        return {"samples": data["latent_tensor"].float() * scale}
