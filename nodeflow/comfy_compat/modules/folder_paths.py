"""ComfyUI's ``folder_paths`` for custom-node packs, over NodeFlow's ``Folders``.

Bound to the runtime's folders before packs import (``nodeflow.runtime`` -> ``binding.bind``).
Model folder kinds and what packs add to them are NodeFlow's own: a kind added here
(``add_model_folder_path``, ``folder_names_and_paths[kind] = ...``) is listed by NodeFlow's file
combos and ``/models`` too. ComfyUI's legacy names ``clip`` and ``unet`` are accepted everywhere.
"""

from __future__ import annotations

import mimetypes
import os
import re
import time
from pathlib import Path

from nodeflow.comfy_compat import binding, missing
from nodeflow.comfy_compat.folder_registry import FolderRegistry, nodeflow_kind
from nodeflow.folders import UnsafePath, check_name, safe_join

supported_pt_extensions: set[str] = {".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft"}
# ComfyUI model folder kinds NodeFlow has no node for (yet): registered so packs can list and extend them
COMFY_KINDS: dict[str, tuple[tuple[str, ...], set[str]]] = {
    "clip_vision": (("clip_vision",), supported_pt_extensions),
    "style_models": (("style_models",), supported_pt_extensions),
    "vae_approx": (("vae_approx",), supported_pt_extensions),
    "gligen": (("gligen",), supported_pt_extensions),
    "hypernetworks": (("hypernetworks",), supported_pt_extensions),
    "photomaker": (("photomaker",), supported_pt_extensions),
    "classifiers": (("classifiers",), set()),
    "model_patches": (("model_patches",), supported_pt_extensions),
    "audio_encoders": (("audio_encoders",), supported_pt_extensions),
    "latent_upscale_models": (("latent_upscale_models",), supported_pt_extensions),
}
LEGACY_NAMES = {"clip": "text_encoders", "unet": "diffusion_models"}

folder_names_and_paths = FolderRegistry(binding.folders)
base_path: str
models_dir: str
output_directory: str
input_directory: str
temp_directory: str
user_directory: str


def _refresh(bound: binding.Bound) -> None:
    """Register ComfyUI's extra kinds and custom_nodes in the bound folders; mirror its paths."""
    global base_path, models_dir, output_directory, input_directory, temp_directory, user_directory
    env = binding.folders()
    for kind, (subfolders, extensions) in COMFY_KINDS.items():
        if kind not in env.model_paths:
            for sub in subfolders:
                env.add_model_path(kind, env.models_dir / sub)
            env.extensions.setdefault(kind, set(extensions))
    folders = bound.custom_node_folders or (binding.REPO_ROOT / "custom_nodes",)
    folder_names_and_paths.local["custom_nodes"] = ([str(f) for f in folders], set())
    base_path, models_dir = str(env.base), str(env.models_dir)
    output_directory, input_directory = str(env.output_dir), str(env.input_dir)
    temp_directory, user_directory = str(env.temp_dir), str(env.user_dir)


binding.on_bind(_refresh)


def map_legacy(folder_name: str) -> str:
    return LEGACY_NAMES.get(folder_name, folder_name)


def _known_kind(folder_name: str) -> str:
    kind = nodeflow_kind(folder_name)
    if kind not in binding.folders().model_paths:
        raise KeyError(folder_name)
    return kind


def get_folder_paths(folder_name: str) -> list[str]:
    return [str(p) for p in folder_names_and_paths[folder_name][0]]


def _local_files(folder_name: str) -> list[str]:
    """Files of a folder kind that is no model folder (custom_nodes)."""
    paths, extensions = folder_names_and_paths.local[folder_name]
    found: set[str] = set()
    for root in paths:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            relative = os.path.relpath(dirpath, root)
            found.update(name if relative == "." else f"{relative}/{name}" for name in filenames)
    return filter_files_extensions(found, extensions)


def get_filename_list(folder_name: str) -> list[str]:
    if folder_name in folder_names_and_paths.local:
        return _local_files(folder_name)
    return list(binding.folders().list_files(_known_kind(folder_name)))


def get_full_path(folder_name: str, filename: str) -> str | None:
    if folder_name in folder_names_and_paths.local:
        try:
            check_name(filename)
        except UnsafePath:
            return None
        found = [os.path.join(root, filename) for root in get_folder_paths(folder_name)]
        return next((path for path in found if os.path.isfile(path)), None)
    kind = nodeflow_kind(folder_name)
    env = binding.folders()
    if kind not in env.model_paths:
        return None
    try:
        path = env.model_path(kind, filename)
    except (FileNotFoundError, UnsafePath):
        return None
    return str(path) if path.is_file() else None


def get_full_path_or_raise(folder_name: str, filename: str) -> str:
    path = get_full_path(folder_name, filename)
    if path is None:
        raise FileNotFoundError(
            f"model file {filename!r} not found in the {folder_name!r} folders "
            f"({', '.join(get_folder_paths(folder_name)) if folder_name in folder_names_and_paths else 'an unknown folder kind'})"
        )
    return path


def add_model_folder_path(folder_name: str, full_folder_path: str, is_default: bool = False) -> None:
    """Add a folder to a kind (creating the kind, listing any file, when it is new); ``is_default``
    puts it first."""
    if folder_name in folder_names_and_paths.local:
        paths = folder_names_and_paths.local[folder_name][0]
        if str(full_folder_path) in paths:
            paths.remove(str(full_folder_path))
        paths.insert(0 if is_default else len(paths), str(full_folder_path))
        return
    env, kind = binding.folders(), nodeflow_kind(folder_name)
    if kind not in env.model_paths:
        env.model_paths[kind] = []
        env.extensions.setdefault(kind, set())
    paths = env.model_paths[kind]
    folder = Path(full_folder_path)
    if is_default and folder in paths:
        paths.remove(folder)
    env.add_model_path(kind, folder, first=is_default)


def get_input_directory() -> str:
    return str(binding.folders().input_dir)


def get_output_directory() -> str:
    return str(binding.folders().output_dir)


def get_temp_directory() -> str:
    return str(binding.folders().temp_dir)


def get_user_directory() -> str:
    return str(binding.folders().user_dir)


def _set_directory(attribute: str, path: str) -> None:
    setattr(binding.folders(), attribute, Path(path).resolve())
    _refresh(binding.bound())


def set_output_directory(output_dir: str) -> None:
    _set_directory("output_dir", output_dir)


def set_input_directory(input_dir: str) -> None:
    _set_directory("input_dir", input_dir)


def set_temp_directory(temp_dir: str) -> None:
    _set_directory("temp_dir", temp_dir)


def set_user_directory(user_dir: str) -> None:
    _set_directory("user_dir", user_dir)


def get_directory_by_type(type_name: str) -> str | None:
    if type_name not in ("output", "input", "temp"):
        return None
    return str(binding.folders().directory(type_name))


def annotated_filepath(name: str) -> tuple[str, str | None]:
    """(name without its ' [output]' / ' [input]' / ' [temp]' tag, the tagged folder or None)."""
    for tag in ("output", "input", "temp"):
        if name.endswith(f" [{tag}]"):
            return name[: -len(tag) - 3], str(binding.folders().directory(tag))
    return name, None


def get_annotated_filepath(name: str, default_dir: str | None = None) -> str:
    """The path of an annotated name (no existence check). Names that would leave their folder
    ('..', absolute paths) raise ``UnsafePath``."""
    name, base = annotated_filepath(name)
    base = base or default_dir or get_input_directory()
    return str(safe_join(base, name))


def exists_annotated_filepath(name: str) -> bool:
    try:
        return os.path.exists(get_annotated_filepath(name))
    except UnsafePath:
        return False


def filter_files_extensions(files, extensions) -> list[str]:
    wanted = tuple(e.lower() for e in extensions)
    return sorted(f for f in files if not wanted or os.path.splitext(f)[1].lower() in wanted)


def filter_files_content_types(files: list[str], content_types: list[str]) -> list[str]:
    """The files whose type is one of ``content_types`` ("image", "video", "audio", "model", "text"...)."""
    result = []
    for name in files:
        extension = os.path.splitext(name)[1].lower()
        mime = mimetypes.guess_type(f"x{extension}", strict=False)[0] or ""
        kind = "model" if extension in supported_pt_extensions else mime.split("/")[0]
        if kind in content_types:
            result.append(name)
    return result


def _expand_prefix(prefix: str, width: int, height: int) -> str:
    now = time.localtime()
    values = {
        "width": str(width),
        "height": str(height),
        "year": str(now.tm_year),
        "month": f"{now.tm_mon:02d}",
        "day": f"{now.tm_mday:02d}",
        "hour": f"{now.tm_hour:02d}",
        "minute": f"{now.tm_min:02d}",
        "second": f"{now.tm_sec:02d}",
    }
    return re.sub(r"%(width|height|year|month|day|hour|minute|second)%", lambda m: values[m.group(1)], prefix)


def get_save_image_path(
    filename_prefix: str, output_dir: str, image_width: int = 0, image_height: int = 0
) -> tuple[str, str, int, str, str]:
    """(full output folder, file stem, next free counter, subfolder, expanded prefix); callers write
    ``f"{stem}_{counter:05}_.png"``. A prefix that leaves ``output_dir`` raises ValueError."""
    filename_prefix = _expand_prefix(filename_prefix, image_width, image_height)
    subfolder, _, stem = filename_prefix.replace("\\", "/").rpartition("/")
    try:
        check_name(filename_prefix.replace("\\", "/").strip("/") or "x")
        folder = safe_join(output_dir, subfolder) if subfolder else Path(os.path.realpath(output_dir))
    except UnsafePath as exc:
        raise ValueError(
            f"filename_prefix {filename_prefix!r} would save outside the output folder {output_dir}: {exc}"
        ) from None
    folder.mkdir(parents=True, exist_ok=True)
    pattern = re.compile(rf"^{re.escape(stem)}_(\d+)")
    used = [int(m.group(1)) for m in map(pattern.match, os.listdir(folder)) if m]
    return str(folder), stem, max(used, default=0) + 1, subfolder, filename_prefix


__getattr__ = missing("folder_paths")
