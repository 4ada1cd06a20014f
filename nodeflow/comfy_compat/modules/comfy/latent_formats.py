"""ComfyUI's ``comfy.latent_formats`` for custom-node packs; a NodeFlow model's ``latent_format``
(``model.get_model_object("latent_format")``) is an instance of the matching class."""

from nodeflow.comfy_compat import missing
from nodeflow.models.comfy_facade.latent_formats import (  # noqa: F401 -- re-exported: ComfyUI's module offers these names
    SD3,
    SD15,
    SDXL,
    Flux,
    LatentFormat,
    SDXL_Playground_2_5,
    Wan21,
)

__getattr__ = missing("comfy.latent_formats")
