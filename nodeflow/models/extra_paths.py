"""extra_model_paths.yaml: model folders (and custom_nodes folders) of other installs.

    comfyui:
        base_path: /opt/ComfyUI/
        checkpoints: models/checkpoints/
        custom_nodes: custom_nodes/
    a111:
        base_path: ~/stable-diffusion-webui/
        checkpoints: models/Stable-diffusion
        loras: |
            models/Lora
            models/LyCORIS
        upscale_models: models/ESRGAN

Paths are relative to the section's base_path, which is relative to the YAML file's folder.
A value may list several folders, one per line. Keys are NodeFlow/ComfyUI folder names; the
A1111 names below are mapped.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

ALIASES = {
    "Stable-diffusion": "checkpoints",
    "Lora": "loras",
    "ESRGAN": "upscale_models",
    "VAE": "vae",
    "text_encoders": "clip",
    "diffusion_models": "unet",
}


def load_extra_model_paths(path: str | os.PathLike) -> dict[str, list[str]]:
    """{folder kind: [absolute paths]}; raises ValueError naming the file when it is malformed."""
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{file}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{file}: expected sections of folder settings (e.g. 'comfyui:')")
    result: dict[str, list[str]] = {}
    for section, settings in data.items():
        if not isinstance(settings, dict):
            raise ValueError(f"{file}: section {section!r} must map folder names to paths")
        base = Path(os.path.expanduser(str(settings.get("base_path", "")))) if settings.get("base_path") else Path()
        if not base.is_absolute():
            base = file.parent / base
        for kind, value in settings.items():
            if kind in ("base_path", "is_default") or value is None:
                continue
            kind = ALIASES.get(kind, kind)
            for line in str(value).splitlines():
                line = line.strip()
                if line:
                    target = Path(os.path.expanduser(line))
                    result.setdefault(kind, []).append(
                        str(target if target.is_absolute() else (base / target).resolve())
                    )
    return result
