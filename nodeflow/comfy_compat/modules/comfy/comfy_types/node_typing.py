"""ComfyUI's ``comfy.comfy_types.node_typing`` for custom-node packs: socket type names (``IO``)
and the typing helpers V1 node classes are written against (``ComfyNodeABC``, ``InputTypeDict``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import StrEnum
from typing import Any, ClassVar, Literal, TypedDict

from nodeflow.comfy_compat import missing


class IO(StrEnum):
    """Socket type names. A member is the plain string (``IO.IMAGE == "IMAGE"``), so it can stand
    wherever INPUT_TYPES / RETURN_TYPES hold strings. ``!=`` follows type matching: ``*`` matches
    every type and comma lists match when they share a type."""

    STRING = "STRING"
    IMAGE = "IMAGE"
    MASK = "MASK"
    LATENT = "LATENT"
    BOOLEAN = "BOOLEAN"
    INT = "INT"
    FLOAT = "FLOAT"
    COMBO = "COMBO"
    CONDITIONING = "CONDITIONING"
    SAMPLER = "SAMPLER"
    SIGMAS = "SIGMAS"
    GUIDER = "GUIDER"
    NOISE = "NOISE"
    CLIP = "CLIP"
    CONTROL_NET = "CONTROL_NET"
    VAE = "VAE"
    MODEL = "MODEL"
    LORA_MODEL = "LORA_MODEL"
    LOSS_MAP = "LOSS_MAP"
    CLIP_VISION = "CLIP_VISION"
    CLIP_VISION_OUTPUT = "CLIP_VISION_OUTPUT"
    STYLE_MODEL = "STYLE_MODEL"
    GLIGEN = "GLIGEN"
    UPSCALE_MODEL = "UPSCALE_MODEL"
    AUDIO = "AUDIO"
    VIDEO = "VIDEO"
    WEBCAM = "WEBCAM"
    POINT = "POINT"
    FACE_ANALYSIS = "FACE_ANALYSIS"
    BBOX = "BBOX"
    SEGS = "SEGS"
    PHOTOMAKER = "PHOTOMAKER"
    HOOKS = "HOOKS"
    HOOK_KEYFRAMES = "HOOK_KEYFRAMES"
    TIMESTEPS_RANGE = "TIMESTEPS_RANGE"
    LATENT_OPERATION = "LATENT_OPERATION"
    FLOW_CONTROL = "FLOW_CONTROL"
    ACCUMULATION = "ACCUMULATION"
    ANY = "*"
    NUMBER = "FLOAT,INT"
    PRIMITIVE = "STRING,FLOAT,INT,BOOLEAN"

    def __ne__(self, value: object) -> bool:
        if not isinstance(value, str):
            return True
        if self == "*" or value == "*":
            return False
        return not (set(str(self).split(",")) & set(value.split(",")))

    __hash__ = StrEnum.__hash__


class RemoteInputOptions(TypedDict, total=False):
    route: str
    refresh_button: bool
    control_after_refresh: Literal["first", "last"]
    timeout: int
    max_retries: int
    refresh: int


class InputTypeOptions(TypedDict, total=False):
    """The options dict of an input: ``("INT", {"default": 0, "min": 0, ...})``."""

    default: Any
    defaultInput: bool
    forceInput: bool
    lazy: bool
    rawLink: bool
    tooltip: str
    min: float
    max: float
    step: float
    round: float
    display: str
    control_after_generate: bool
    label_on: str
    label_off: str
    multiline: bool
    placeholder: str
    dynamicPrompts: bool
    image_upload: bool
    image_folder: Literal["input", "output", "temp"]
    options: list
    remote: RemoteInputOptions
    advanced: bool


class HiddenInputTypeDict(TypedDict, total=False):
    node_id: Literal["UNIQUE_ID"]
    unique_id: Literal["UNIQUE_ID"]
    prompt: Literal["PROMPT"]
    extra_pnginfo: Literal["EXTRA_PNGINFO"]
    dynprompt: Literal["DYNPROMPT"]


class InputTypeDict(TypedDict, total=False):
    """What ``INPUT_TYPES`` returns."""

    required: dict[str, tuple]
    optional: dict[str, tuple]
    hidden: HiddenInputTypeDict


class FileLocator(TypedDict):
    """Where a saved file is: ``{"filename", "subfolder", "type"}`` (type: input/output/temp)."""

    filename: str
    subfolder: str
    type: Literal["input", "output", "temp"]


class ComfyNodeABC(ABC):
    """Base class for typed V1 nodes: the class attributes ComfyUI reads, with their defaults."""

    DESCRIPTION: ClassVar[str] = ""
    CATEGORY: ClassVar[str] = ""
    EXPERIMENTAL: ClassVar[bool] = False
    DEPRECATED: ClassVar[bool] = False
    RETURN_TYPES: ClassVar[tuple] = ()
    RETURN_NAMES: ClassVar[tuple[str, ...]]
    OUTPUT_TOOLTIPS: ClassVar[tuple[str, ...]]
    FUNCTION: ClassVar[str]
    OUTPUT_NODE: ClassVar[bool] = False
    INPUT_IS_LIST: ClassVar[bool] = False
    OUTPUT_IS_LIST: ClassVar[tuple[bool, ...]]

    @classmethod
    @abstractmethod
    def INPUT_TYPES(cls) -> InputTypeDict:
        """The node's inputs: ``{"required": {...}, "optional": {...}, "hidden": {...}}``."""


class CheckLazyMixin:
    """``check_lazy_status`` asking for every lazy input that has not been evaluated yet."""

    def check_lazy_status(self, **kwargs: Any) -> list[str]:
        return [name for name, value in kwargs.items() if value is None]


__getattr__ = missing("comfy.comfy_types.node_typing")
