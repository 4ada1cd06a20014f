"""comfy_api.latest.ui for ComfyUI packs: what a V3 node shows on itself (``NodeOutput(ui=...)``),
written for NodeFlow. Each helper's ``as_dict()`` is the ``ui`` dict of the ``executed`` event."""

from __future__ import annotations

import uuid
from typing import Any

from nodeflow.comfy_compat import missing
from nodeflow.engine.context import current_context


class _UIOutput:
    def as_dict(self) -> dict:
        raise NotImplementedError


class SavedResult(dict):
    """One file written by the node: ``{"filename", "subfolder", "type"}``."""

    def __init__(self, filename: str, subfolder: str, type: Any):
        kind = getattr(type, "value", type)
        super().__init__(filename=filename, subfolder=subfolder, type=kind)
        self.filename, self.subfolder, self.type = filename, subfolder, kind

    def as_dict(self) -> dict:
        return dict(self)


class SavedImages(_UIOutput):
    def __init__(self, results: list, is_animated: bool = False):
        self.results, self.is_animated = list(results), is_animated

    def as_dict(self) -> dict:
        return {"images": [dict(r) for r in self.results], "animated": (self.is_animated,)}


def _env():
    ctx = current_context()
    if ctx is None or ctx.env is None:
        raise RuntimeError("saving images needs a running node (the engine supplies the folders)")
    return ctx.env


class ImageSaveHelper:
    @staticmethod
    def save_images(
        images: Any, filename_prefix: str, folder_type: Any = "output", cls: Any = None, compress_level: int = 4
    ) -> list[SavedResult]:
        """PNGs ``{prefix}_{counter:05}_.png`` with the prompt/workflow metadata of ``cls.hidden``."""
        from nodeflow.nodes.image_io import save_images

        hidden = getattr(cls, "hidden", None)
        kind = getattr(folder_type, "value", folder_type)
        records = save_images(
            _env(),
            images,
            filename_prefix,
            kind,
            getattr(hidden, "prompt", None),
            getattr(hidden, "extra_pnginfo", None),
        )
        return [SavedResult(r["filename"], r["subfolder"], r["type"]) for r in records]

    @staticmethod
    def get_save_images_ui(images: Any, filename_prefix: str, cls: Any = None, compress_level: int = 4) -> SavedImages:
        return SavedImages(ImageSaveHelper.save_images(images, filename_prefix, "output", cls, compress_level))


class PreviewImage(_UIOutput):
    """Show images on the node (written to the temp folder)."""

    def __init__(self, image: Any, animated: bool = False, cls: Any = None, **kwargs: Any):
        prefix = f"preview_{uuid.uuid4().hex[:8]}"
        self.values = ImageSaveHelper.save_images(image, prefix, "temp", cls)
        self.animated = animated

    def as_dict(self) -> dict:
        return {"images": [dict(v) for v in self.values], "animated": (self.animated,)}


class PreviewMask(PreviewImage):
    """Show masks ``[B,H,W]`` as grey images."""

    def __init__(self, mask: Any, animated: bool = False, cls: Any = None, **kwargs: Any):
        image = mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1])).movedim(1, -1).expand(-1, -1, -1, 3)
        super().__init__(image, animated, cls)


class PreviewText(_UIOutput):
    def __init__(self, value: str, **kwargs: Any):
        self.value = value

    def as_dict(self) -> dict:
        return {"text": (self.value,)}


__getattr__ = missing("comfy_api.latest.ui")
