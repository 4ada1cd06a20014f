"""The public API for plugin authors: import everything a node needs from here.

    from nodeflow.api import Node, NodeResult, Image, Int, Float, String, Combo, Output

This surface is versioned (API_VERSION, semantic: minor = additions, major = breaking changes);
anything not exported here is internal and may change. See docs/plugins.md.
"""

from nodeflow.schema.node import Node, NodeResult
from nodeflow.schema.types import (
    AnyType,
    Boolean,
    Clip,
    Combo,
    Conditioning,
    Float,
    Guider,
    Hidden,
    Image,
    Int,
    Latent,
    Mask,
    Model,
    Noise,
    Output,
    Sampler,
    Sigmas,
    Socket,
    String,
    UpscaleModel,
    Vae,
)

API_VERSION = "1.0"

__all__ = [
    "API_VERSION",
    "AnyType",
    "Boolean",
    "Clip",
    "Combo",
    "Conditioning",
    "Float",
    "Guider",
    "Hidden",
    "Image",
    "Int",
    "Latent",
    "Mask",
    "Model",
    "Node",
    "NodeResult",
    "Noise",
    "Output",
    "Sampler",
    "Sigmas",
    "Socket",
    "String",
    "UpscaleModel",
    "Vae",
]
