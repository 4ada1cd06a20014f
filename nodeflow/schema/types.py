"""Input and output descriptors: how a node declares its sockets and widgets, as data.

A node lists its inputs as ``{name: descriptor}``. Widgets (Int, Float, String, Boolean,
Combo) carry their constraints; sockets (Image, Latent, Model, ...) carry only a type
name. Every descriptor can render itself as the ComfyUI ``[type, options]`` pair that
/object_info publishes and can check a literal value against its constraints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# The largest width, height or offset a pixel widget takes (ComfyUI's nodes.MAX_RESOLUTION).
MAX_RESOLUTION = 16384


class InputError(ValueError):
    """A literal value that breaks a widget's constraints.

    ``kind`` is one of the ComfyUI validation error types (value_smaller_than_min, ...).
    """

    def __init__(self, kind: str, message: str, details: str = ""):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.details = details or message


@dataclass
class Input:
    """Base descriptor. ``type_name`` is the socket type (e.g. "IMAGE", "INT", "*")."""

    type_name: str = "*"
    optional: bool = False
    tooltip: str | None = None
    lazy: bool = False
    force_input: bool = False
    extra: dict = field(default_factory=dict)
    raw_link: bool = False  # the node receives the link [node_id, index] itself, not the value (ComfyUI rawLink)

    is_widget = False

    def options(self, env: Any = None) -> dict:
        opts: dict = {}
        if self.tooltip:
            opts["tooltip"] = self.tooltip
        if self.lazy:
            opts["lazy"] = True
        if self.force_input:
            opts["forceInput"] = True
        if self.raw_link:
            opts["rawLink"] = True
        opts.update(self.extra)
        return opts

    def spec(self, env: Any = None) -> list:
        """The ``[type, options]`` pair of /object_info."""
        return [self.type_name, self.options(env)]

    def check(self, value: Any, env: Any = None) -> Any:
        """Validate and normalise a literal value; raise InputError when it is unusable."""
        return value


@dataclass
class Socket(Input):
    """A typed link-only input or output ("IMAGE", "LATENT", "MODEL", "*", "INT,FLOAT")."""


def _socket(type_name: str) -> Callable[..., Socket]:
    def make(**kw: Any) -> Socket:
        return Socket(type_name=type_name, **kw)

    make.__name__ = type_name.title().replace("_", "")
    make.__doc__ = f"A {type_name} socket."
    return make


Image = _socket("IMAGE")
Mask = _socket("MASK")
Latent = _socket("LATENT")
Conditioning = _socket("CONDITIONING")
Model = _socket("MODEL")
Clip = _socket("CLIP")
Vae = _socket("VAE")
Noise = _socket("NOISE")
Sampler = _socket("SAMPLER")
Sigmas = _socket("SIGMAS")
Guider = _socket("GUIDER")
UpscaleModel = _socket("UPSCALE_MODEL")
ControlNet = _socket("CONTROL_NET")
AnyType = _socket("*")


@dataclass
class Int(Input):
    type_name: str = "INT"
    default: int | None = 0
    min: int | None = None
    max: int | None = None
    step: int | None = None
    control_after_generate: bool = False
    display: str | None = None

    is_widget = True

    def options(self, env: Any = None) -> dict:
        opts: dict = {}
        if self.default is not None:
            opts["default"] = self.default
        for key in ("min", "max", "step"):
            if getattr(self, key) is not None:
                opts[key] = getattr(self, key)
        if self.control_after_generate:
            opts["control_after_generate"] = True
        if self.display:
            opts["display"] = self.display
        opts.update(super().options(env))
        return opts

    def check(self, value: Any, env: Any = None) -> int:
        if isinstance(value, bool):
            raise InputError("invalid_input_type", f"expected an INT, got a boolean ({value})")
        if isinstance(value, float):
            if not value.is_integer():
                raise InputError("invalid_input_type", f"expected an INT, got {value!r}")
            value = int(value)
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise InputError("invalid_input_type", f"expected an INT, got the string {value[:80]!r}") from None
        if not isinstance(value, int):
            raise InputError("invalid_input_type", f"expected an INT, got {type(value).__name__}")
        return _check_range(value, self.min, self.max)


@dataclass
class Float(Input):
    type_name: str = "FLOAT"
    default: float | None = 0.0
    min: float | None = None
    max: float | None = None
    step: float | None = None
    round: float | bool | None = None
    display: str | None = None

    is_widget = True

    def options(self, env: Any = None) -> dict:
        opts: dict = {}
        if self.default is not None:
            opts["default"] = self.default
        for key in ("min", "max", "step", "round"):
            if getattr(self, key) is not None:
                opts[key] = getattr(self, key)
        if self.display:
            opts["display"] = self.display
        opts.update(super().options(env))
        return opts

    def check(self, value: Any, env: Any = None) -> float:
        if isinstance(value, bool):
            raise InputError("invalid_input_type", f"expected a FLOAT, got a boolean ({value})")
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise InputError("invalid_input_type", f"expected a FLOAT, got the string {value[:80]!r}") from None
        if not isinstance(value, (int, float)):
            raise InputError("invalid_input_type", f"expected a FLOAT, got {type(value).__name__}")
        try:
            value = float(value)
        except OverflowError:
            raise InputError("invalid_input_type", "the number is too large for a FLOAT") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise InputError("invalid_input_type", f"expected a finite FLOAT, got {value}")
        return _check_range(value, self.min, self.max)


@dataclass
class String(Input):
    type_name: str = "STRING"
    default: str | None = ""
    multiline: bool = False
    placeholder: str | None = None
    dynamic_prompts: bool | None = None

    is_widget = True

    def options(self, env: Any = None) -> dict:
        opts: dict = {}
        if self.default is not None:
            opts["default"] = self.default
        if self.multiline:
            opts["multiline"] = True
        if self.placeholder:
            opts["placeholder"] = self.placeholder
        if self.dynamic_prompts is not None:
            opts["dynamicPrompts"] = self.dynamic_prompts
        opts.update(super().options(env))
        return opts

    def check(self, value: Any, env: Any = None) -> str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise InputError("invalid_input_type", f"expected a STRING, got {type(value).__name__}")
        return value


@dataclass
class Boolean(Input):
    type_name: str = "BOOLEAN"
    default: bool | None = False
    label_on: str | None = None
    label_off: str | None = None

    is_widget = True

    def options(self, env: Any = None) -> dict:
        opts: dict = {}
        if self.default is not None:
            opts["default"] = self.default
        if self.label_on:
            opts["label_on"] = self.label_on
        if self.label_off:
            opts["label_off"] = self.label_off
        opts.update(super().options(env))
        return opts

    def check(self, value: Any, env: Any = None) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise InputError("invalid_input_type", f"expected a BOOLEAN, got {value!r}"[:200])


@dataclass
class Combo(Input):
    """A choice from a list. ``choices`` is a fixed list, or ``files`` names a model/input
    folder whose file names the environment lists at request time."""

    type_name: str = "COMBO"
    choices: Sequence[str] | Callable[[Any], Sequence[str]] = ()
    files: str | None = None
    default: str | None = None
    image_upload: bool = False

    is_widget = True

    def resolve(self, env: Any = None) -> list:
        if self.files is not None:
            return list(env.list_files(self.files)) if env is not None else []
        if callable(self.choices):
            return list(self.choices(env))
        return list(self.choices)

    def options(self, env: Any = None) -> dict:
        opts: dict = {}
        if self.default is not None:
            opts["default"] = self.default
        if self.image_upload:
            opts["image_upload"] = True
        opts.update(super().options(env))
        return opts

    def spec(self, env: Any = None) -> list:
        return [self.resolve(env), self.options(env)]

    def check(self, value: Any, env: Any = None) -> Any:
        choices = self.resolve(env)
        if isinstance(value, (list, dict)) or value not in choices:
            shown = ", ".join(map(str, choices[:20])) + (" ..." if len(choices) > 20 else "")
            raise InputError(
                "value_not_in_list",
                f"Value not in list: {str(value)[:120]!r} not in [{shown}]",
                f"{str(value)[:120]!r} not in {choices[:50]}",
            )
        return value


@dataclass
class Hidden:
    """Values the engine fills in, never the user: PROMPT, EXTRA_PNGINFO, UNIQUE_ID."""

    kind: str  # "PROMPT" | "EXTRA_PNGINFO" | "UNIQUE_ID" | "DYNPROMPT"


def _check_range(value: Any, lo: Any, hi: Any) -> Any:
    if lo is not None and value < lo:
        raise InputError("value_smaller_than_min", f"Value {value} smaller than min of {lo}")
    if hi is not None and value > hi:
        raise InputError("value_bigger_than_max", f"Value {value} bigger than max of {hi}")
    return value


@dataclass
class Output:
    """One output slot: its type, its display name and whether it yields a list."""

    type_name: str
    name: str | None = None
    is_list: bool = False
    tooltip: str | None = None


def types_match(output_type: str, input_type: str) -> bool:
    """ComfyUI type matching: same name, ``*`` on either side, or overlapping comma lists. Equality
    is ``not (a != b)``, as in ComfyUI: packs declare "any" types as ``str`` subclasses whose
    ``__ne__`` is always False, so they match every type."""
    if not (output_type != input_type) or output_type == "*" or input_type == "*":  # noqa: SIM202 (see docstring)
        return True
    if not isinstance(output_type, str) or not isinstance(input_type, str):
        return False
    outs = {t.strip() for t in output_type.split(",")}
    ins = {t.strip() for t in input_type.split(",")}
    return bool(outs & ins) or "*" in outs or "*" in ins
