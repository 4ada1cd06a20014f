"""Where files live: input/output/temp/user folders and model folders, with safe path
resolution. Every file name that arrives from outside goes through ``safe_join`` (files that
are served or written: strict real-path containment) or ``model_join`` (model files: the name is
checked, but a symlinked model file or folder may live anywhere, as users keep models on other
disks)."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

from .folder_listing import ListingCache, model_folders, walk

MODEL_FOLDERS = (
    "checkpoints",
    "vae",
    "loras",
    "embeddings",
    "upscale_models",
    "prompt_expanders",
    "clip",
    "unet",
    "configs",
    "text_encoders",
    "diffusion_models",
    "diffusers",
    "controlnet",
)
# folders that are two names for one kind (ComfyUI renamed them, or reads both for one kind)
MODEL_ALIASES = {"text_encoders": "clip", "unet": "diffusion_models", "controlnet": "t2i_adapter"}
MODEL_EXTENSIONS = (".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".sft")
MAX_NAME_LENGTH = 255


class UnsafePath(ValueError):
    """A file name that would leave its folder, or cannot be a file name at all."""


def check_name(name: str, allow_subdirs: bool = True) -> str:
    """Reject names that cannot be safe relative paths; return the name unchanged."""
    if not isinstance(name, str) or not name:
        raise UnsafePath("the file name is empty; give a file name relative to the folder")
    if "\x00" in name:
        raise UnsafePath("the file name contains a NUL byte")
    if len(name) > 1024 or any(len(part) > MAX_NAME_LENGTH for part in name.split("/")):
        raise UnsafePath("the file name is too long")
    if "\\" in name:
        raise UnsafePath(f"the file name {name[:80]!r} contains a backslash; use '/' between folders")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UnsafePath(f"the file name {name[:80]!r} is absolute; give a name relative to the folder")
    normalized = unicodedata.normalize("NFKC", name)
    parts = normalized.split("/")
    if any(part in ("..", ".") for part in parts) or ".." in name.split("/"):
        raise UnsafePath(f"the file name {name[:80]!r} contains '..' or '.'; it must stay inside its folder")
    if not allow_subdirs and len(parts) > 1:
        raise UnsafePath(f"the file name {name[:80]!r} may not contain '/'")
    if any(part == "" for part in parts):
        raise UnsafePath(f"the file name {name[:80]!r} has an empty path component")
    return name


def safe_join(base: str | os.PathLike, *names: str) -> Path:
    """Join ``names`` under ``base`` and prove, on resolved real paths, that the result stays
    inside ``base`` (symlinks pointing outside are refused)."""
    base_real = Path(os.path.realpath(base))
    parts = []
    for name in names:
        if name:
            check_name(name)
            parts.append(name)
    target = Path(os.path.realpath(base_real.joinpath(*parts)))
    if target != base_real and base_real not in target.parents:
        raise UnsafePath(f"{'/'.join(parts)[:120]!r} resolves outside its folder")
    return target


def model_join(root: str | os.PathLike, name: str) -> Path:
    """``root/name`` for a model name: the name is checked as ``check_name`` does (no ``..``,
    absolute paths, backslashes, NUL), but symlinks are followed wherever they point. Model
    files are only read by the loaders, never served, so a checkpoint symlinked into
    models/checkpoints from another disk loads."""
    check_name(name)
    return Path(root).joinpath(*name.split("/"))


class Folders:
    """The folders of one NodeFlow installation, rooted at ``base_directory``."""

    def __init__(
        self,
        base_directory: str | os.PathLike,
        extra_model_paths: dict[str, list[str]] | None = None,
        output_directory: str | None = None,
        input_directory: str | None = None,
        temp_directory: str | None = None,
        user_directory: str | None = None,
    ) -> None:
        self.base = Path(base_directory).resolve()
        self.input_dir = Path(input_directory or self.base / "input").resolve()
        self.output_dir = Path(output_directory or self.base / "output").resolve()
        self.temp_dir = Path(temp_directory or self.base / "temp").resolve()
        self.user_dir = Path(user_directory or self.base / "user").resolve()
        self.models_dir = (self.base / "models").resolve()
        self.model_paths: dict[str, list[Path]] = {k: [self.models_dir / k] for k in MODEL_FOLDERS}
        for kind, alias in MODEL_ALIASES.items():
            self.model_paths[kind].append(self.models_dir / alias)
        for kind, paths in (extra_model_paths or {}).items():
            self.model_paths.setdefault(kind, []).extend(Path(p) for p in paths)
        # file extensions listed per model folder kind, where they differ from the default
        # (plugin kinds such as {".gguf"}); an empty set lists every file
        self.extensions: dict[str, set[str]] = {"controlnet": set(MODEL_EXTENSIONS)}  # not a folder's config.json
        self.listings = ListingCache()

    def ensure(self) -> None:
        for path in (self.input_dir, self.output_dir, self.temp_dir, self.user_dir):
            path.mkdir(parents=True, exist_ok=True)
        for kind in MODEL_FOLDERS:
            (self.models_dir / kind).mkdir(parents=True, exist_ok=True)

    def add_model_path(self, kind: str, path: str | os.PathLike, first: bool = False) -> None:
        paths = self.model_paths.setdefault(kind, [])
        if Path(path) not in paths:
            paths.insert(0 if first else len(paths), Path(path))

    def extensions_of(self, kind: str) -> tuple[str, ...] | None:
        """The file extensions ``list_files(kind)`` lists; None lists every file."""
        if kind in self.extensions:
            return tuple(sorted(self.extensions[kind])) or None
        return None if kind == "prompt_expanders" else (*MODEL_EXTENSIONS, ".yaml", ".json")

    def directory(self, kind: str) -> Path:
        """input / output / temp / user folders by name."""
        mapping = {"input": self.input_dir, "output": self.output_dir, "temp": self.temp_dir, "user": self.user_dir}
        if kind not in mapping:
            raise UnsafePath(f"unknown folder type {kind!r}; use one of {sorted(mapping)}")
        return mapping[kind]

    def list_files(self, kind: str) -> list[str]:
        """Files of a model folder (recursively, '/'-separated) or of the input folder. Each folder's
        listing is cached until one of its directories changes (nodeflow/folder_listing.py)."""
        if kind == "input":
            return sorted(self.listings.get(("input", str(self.input_dir)), lambda: walk(self.input_dir, None, True)))
        names: set[str] = set()
        exts = self.extensions_of(kind)
        for root in self.model_paths.get(kind, []):
            if kind == "prompt_expanders":  # Hugging Face folders: list the folders
                names.update(self.listings.get(("hf", str(root)), lambda root=root: model_folders(root)))
            else:
                names.update(self.listings.get(("files", str(root), exts), lambda root=root: walk(root, exts)))
        return sorted(names)

    def model_path(self, kind: str, name: str) -> Path:
        """Full path of a model file by its listed name; raises FileNotFoundError naming the fix."""
        check_name(name)
        for root in self.model_paths.get(kind, []):
            if not root.exists():
                continue
            path = model_join(root, name)
            if path.exists():
                return path
        where = ", ".join(str(p) for p in self.model_paths.get(kind, [])) or "(no folder configured)"
        raise FileNotFoundError(
            f"model file {name!r} not found in the {kind} folders ({where}); "
            f"put the file there or pick one of {self.list_files(kind)[:10]}"
        )

    def annotated_path(self, name: str, default: str = "input") -> Path:
        """LoadImage-style names: 'file.png', 'sub/file.png', 'file.png [output]'."""
        kind = default
        for tag in ("input", "output", "temp"):
            suffix = f" [{tag}]"
            if name.endswith(suffix):
                name, kind = name[: -len(suffix)], tag
                break
        return safe_join(self.directory(kind), name)
