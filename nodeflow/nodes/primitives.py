"""Primitive value nodes and string concatenation."""

from __future__ import annotations

from nodeflow.schema.node import Node
from nodeflow.schema.types import Boolean, Float, Int, Socket, String

BIG = 9223372036854775807


class PrimitiveInt(Node):
    display_name = "Int"
    category = "utils/primitive"
    inputs = {"value": Int(default=None, min=-BIG, max=BIG, control_after_generate=True)}
    outputs = {"INT": Socket("INT")}

    def run(self, value):
        return value


class PrimitiveFloat(Node):
    display_name = "Float"
    category = "utils/primitive"
    inputs = {"value": Float(default=None, min=-BIG, max=BIG, step=0.1)}
    outputs = {"FLOAT": Socket("FLOAT")}

    def run(self, value):
        return value


class PrimitiveString(Node):
    display_name = "String"
    category = "utils/primitive"
    inputs = {"value": String(default=None, extra={"multiline": False})}
    outputs = {"STRING": Socket("STRING")}

    def run(self, value):
        return value


class PrimitiveStringMultiline(Node):
    display_name = "String (Multiline)"
    category = "utils/primitive"
    inputs = {"value": String(default=None, multiline=True)}
    outputs = {"STRING": Socket("STRING")}

    def run(self, value):
        return value


class PrimitiveBoolean(Node):
    display_name = "Boolean"
    category = "utils/primitive"
    inputs = {"value": Boolean(default=None)}
    outputs = {"BOOLEAN": Socket("BOOLEAN")}

    def run(self, value):
        return value


class StringConcatenate(Node):
    """Join two strings with a delimiter."""

    display_name = "Concatenate"
    category = "utils/string"
    inputs = {
        "string_a": String(default=None, multiline=True),
        "string_b": String(default=None, multiline=True),
        "delimiter": String(default="", extra={"multiline": False}),
    }
    outputs = {"STRING": Socket("STRING")}

    def run(self, string_a, string_b, delimiter):
        return f"{string_a}{delimiter}{string_b}"
