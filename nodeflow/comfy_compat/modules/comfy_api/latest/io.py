"""comfy_api.latest.io for ComfyUI packs: the V3 node schema (written for NodeFlow).

class Add(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(node_id="Add", category="math", inputs=[io.Int.Input("a"), io.Int.Input("b")],
                         outputs=[io.Int.Output()])

    @classmethod
    def execute(cls, a, b):
        return io.NodeOutput(a + b)
"""

from nodeflow.comfy_compat import missing

from . import _io
from ._io import (
    SOCKET_TYPES,
    Boolean,
    Combo,
    ComfyTypeI,
    ComfyTypeIO,
    Custom,
    Float,
    FolderType,
    Hidden,
    HiddenHolder,
    Input,
    Int,
    MultiCombo,
    MultiType,
    NumberDisplay,
    Output,
    String,
    UploadType,
    WidgetInput,
    comfytype,
)
from ._node import ComfyNode, NodeOutput, Schema

globals().update({name: getattr(_io, name) for name in SOCKET_TYPES})

__all__ = [
    "Boolean",
    "Combo",
    "ComfyNode",
    "ComfyTypeI",
    "ComfyTypeIO",
    "Custom",
    "Float",
    "FolderType",
    "Hidden",
    "HiddenHolder",
    "Input",
    "Int",
    "MultiCombo",
    "MultiType",
    "NodeOutput",
    "NumberDisplay",
    "Output",
    "Schema",
    "String",
    "UploadType",
    "WidgetInput",
    "comfytype",
    *SOCKET_TYPES,
]

__getattr__ = missing("comfy_api.latest.io")
