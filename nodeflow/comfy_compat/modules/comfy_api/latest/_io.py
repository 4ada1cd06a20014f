"""ComfyUI V3 socket types for packs (``io.Int``, ``io.Image``, ``io.Custom("X")`` ...), written for
NodeFlow. A type has an ``io_type`` name and nested ``Input``/``Output`` declaration classes;
``Input.as_dict()`` is the options dict /object_info shows, exactly as ComfyUI shows V3 inputs
(values left at None are left out)."""

from __future__ import annotations

from enum import Enum
from typing import Any


def _pruned(values: dict) -> dict:
    return {k: v for k, v in values.items() if v is not None}


def _value(option: Any) -> Any:
    return option.value if isinstance(option, Enum) else option


class NumberDisplay(str, Enum):  # noqa: UP042 -- ComfyUI API is (str, Enum): its str() is "Class.member", StrEnum would print the value
    number = "number"
    slider = "slider"


class UploadType(str, Enum):  # noqa: UP042 -- ComfyUI API is (str, Enum): its str() is "Class.member", StrEnum would print the value
    image = "image_upload"
    audio = "audio_upload"
    video = "video_upload"
    model = "file_upload"


class FolderType(str, Enum):  # noqa: UP042 -- ComfyUI API is (str, Enum): its str() is "Class.member", StrEnum would print the value
    input = "input"
    output = "output"
    temp = "temp"


class Input:
    """One input of a V3 node."""

    io_type = "*"

    def __init__(
        self,
        id: str,
        display_name: str | None = None,
        optional=False,
        tooltip: str | None = None,
        lazy: bool | None = None,
        extra_dict=None,
        raw_link: bool | None = None,
    ):
        self.id = id
        self.display_name = display_name
        self.optional = optional
        self.tooltip = tooltip
        self.lazy = lazy
        self.extra_dict = extra_dict if extra_dict is not None else {}
        self.raw_link = raw_link

    def get_io_type(self) -> str:
        return self.io_type

    def as_dict(self) -> dict:
        return _pruned(
            {"display_name": self.display_name, "tooltip": self.tooltip, "lazy": self.lazy, "rawLink": self.raw_link}
        ) | _pruned(self.extra_dict)


class WidgetInput(Input):
    """An input the editor shows as a widget (it can be linked as well)."""

    def __init__(
        self,
        id: str,
        display_name: str | None = None,
        optional=False,
        tooltip: str | None = None,
        lazy: bool | None = None,
        default: Any = None,
        socketless: bool | None = None,
        force_input: bool | None = None,
        extra_dict=None,
        raw_link: bool | None = None,
    ):
        super().__init__(id, display_name, optional, tooltip, lazy, extra_dict, raw_link)
        self.default = default
        self.socketless = socketless
        self.force_input = force_input

    def as_dict(self) -> dict:
        return super().as_dict() | _pruned(
            {"default": _value(self.default), "socketless": self.socketless, "forceInput": self.force_input}
        )


class Output:
    """One output of a V3 node."""

    io_type = "*"

    def __init__(
        self, id: str | None = None, display_name: str | None = None, tooltip: str | None = None, is_output_list=False
    ):
        self.id = id
        self.display_name = display_name
        self.tooltip = tooltip
        self.is_output_list = is_output_list

    def get_io_type(self) -> str:
        return self.io_type


class ComfyTypeI:
    """A type with only an Input (declared with @comfytype)."""

    io_type = "*"
    Type = Any
    Input = Input


class ComfyTypeIO(ComfyTypeI):
    """A type with an Input and an Output."""

    Output = Output


def comfytype(io_type: str, **kwargs: Any):
    """Class decorator naming a type: its Input/Output classes get ``io_type``."""

    def decorate(cls: type) -> type:
        cls.io_type = io_type
        for part in ("Input", "Output"):
            base = getattr(cls, part, None)
            if isinstance(base, type):
                setattr(
                    cls,
                    part,
                    type(
                        part,
                        (base,),
                        {"io_type": io_type, "__qualname__": f"{cls.__name__}.{part}", "__module__": cls.__module__},
                    ),
                )
        return cls

    return decorate


def Custom(io_type: str) -> type[ComfyTypeIO]:
    """A socket type for any type name, e.g. ``Custom("MY_DATA")`` or ``Custom("*")``."""
    return comfytype(io_type)(type(str(io_type), (ComfyTypeIO,), {"__module__": __name__}))


@comfytype(io_type="BOOLEAN")
class Boolean(ComfyTypeIO):
    Type = bool

    class Input(WidgetInput):
        def __init__(
            self,
            id: str,
            display_name: str | None = None,
            optional=False,
            tooltip: str | None = None,
            lazy: bool | None = None,
            default: bool | None = None,
            label_on: str | None = None,
            label_off: str | None = None,
            socketless: bool | None = None,
            force_input: bool | None = None,
            extra_dict=None,
            raw_link: bool | None = None,
        ):
            super().__init__(
                id, display_name, optional, tooltip, lazy, default, socketless, force_input, extra_dict, raw_link
            )
            self.label_on, self.label_off = label_on, label_off

        def as_dict(self) -> dict:
            return super().as_dict() | _pruned({"label_on": self.label_on, "label_off": self.label_off})


@comfytype(io_type="INT")
class Int(ComfyTypeIO):
    Type = int

    class Input(WidgetInput):
        def __init__(
            self,
            id: str,
            display_name: str | None = None,
            optional=False,
            tooltip: str | None = None,
            lazy: bool | None = None,
            default: int | None = None,
            min: int | None = None,
            max: int | None = None,
            step: int | None = None,
            control_after_generate: bool | None = None,
            display_mode: NumberDisplay = None,
            socketless: bool | None = None,
            force_input: bool | None = None,
            extra_dict=None,
            raw_link: bool | None = None,
        ):
            super().__init__(
                id, display_name, optional, tooltip, lazy, default, socketless, force_input, extra_dict, raw_link
            )
            self.min, self.max, self.step = min, max, step
            self.control_after_generate, self.display_mode = control_after_generate, display_mode

        def as_dict(self) -> dict:
            return super().as_dict() | _pruned(
                {
                    "min": self.min,
                    "max": self.max,
                    "step": self.step,
                    "control_after_generate": self.control_after_generate,
                    "display": _value(self.display_mode),
                }
            )


@comfytype(io_type="FLOAT")
class Float(ComfyTypeIO):
    Type = float

    class Input(WidgetInput):
        def __init__(
            self,
            id: str,
            display_name: str | None = None,
            optional=False,
            tooltip: str | None = None,
            lazy: bool | None = None,
            default: float | None = None,
            min: float | None = None,
            max: float | None = None,
            step: float | None = None,
            round: float | None = None,
            display_mode: NumberDisplay = None,
            socketless: bool | None = None,
            force_input: bool | None = None,
            extra_dict=None,
            raw_link: bool | None = None,
        ):
            super().__init__(
                id, display_name, optional, tooltip, lazy, default, socketless, force_input, extra_dict, raw_link
            )
            self.min, self.max, self.step, self.round, self.display_mode = min, max, step, round, display_mode

        def as_dict(self) -> dict:
            return super().as_dict() | _pruned(
                {
                    "min": self.min,
                    "max": self.max,
                    "step": self.step,
                    "round": self.round,
                    "display": _value(self.display_mode),
                }
            )


@comfytype(io_type="STRING")
class String(ComfyTypeIO):
    Type = str

    class Input(WidgetInput):
        def __init__(
            self,
            id: str,
            display_name: str | None = None,
            optional=False,
            tooltip: str | None = None,
            lazy: bool | None = None,
            multiline=False,
            placeholder: str | None = None,
            default: str | None = None,
            dynamic_prompts: bool | None = None,
            socketless: bool | None = None,
            force_input: bool | None = None,
            extra_dict=None,
            raw_link: bool | None = None,
        ):
            super().__init__(
                id, display_name, optional, tooltip, lazy, default, socketless, force_input, extra_dict, raw_link
            )
            self.multiline, self.placeholder, self.dynamic_prompts = multiline, placeholder, dynamic_prompts

        def as_dict(self) -> dict:
            return super().as_dict() | _pruned(
                {"multiline": self.multiline, "placeholder": self.placeholder, "dynamicPrompts": self.dynamic_prompts}
            )


@comfytype(io_type="COMBO")
class Combo(ComfyTypeIO):
    Type = str

    class Input(WidgetInput):
        multiselect = False

        def __init__(
            self,
            id: str,
            options: Any = None,
            display_name: str | None = None,
            optional=False,
            tooltip: str | None = None,
            lazy: bool | None = None,
            default: Any = None,
            control_after_generate: bool | None = None,
            upload: UploadType = None,
            image_folder: FolderType = None,
            remote: Any = None,
            socketless: bool | None = None,
            extra_dict=None,
            raw_link: bool | None = None,
        ):
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None, extra_dict, raw_link)
            if isinstance(options, type) and issubclass(options, Enum):
                options = [member.value for member in options]
            self.options = list(options) if options is not None else []
            self.control_after_generate, self.upload, self.image_folder = control_after_generate, upload, image_folder
            self.remote = remote

        def as_dict(self) -> dict:
            return (
                super().as_dict()
                | _pruned(
                    {
                        "multiselect": self.multiselect,
                        "options": self.options,
                        "control_after_generate": self.control_after_generate,
                        "image_folder": _value(self.image_folder),
                        "remote": self.remote.as_dict() if hasattr(self.remote, "as_dict") else self.remote,
                    }
                )
                | ({_value(self.upload): True} if self.upload is not None else {})
            )


@comfytype(io_type="COMBO")
class MultiCombo(ComfyTypeI):
    Type = list

    class Input(Combo.Input):
        multiselect = True

        def __init__(
            self,
            id: str,
            options: list | None = None,
            display_name: str | None = None,
            optional=False,
            tooltip: str | None = None,
            lazy: bool | None = None,
            default: list | None = None,
            placeholder: str | None = None,
            chip: bool | None = None,
            control_after_generate: bool | None = None,
            socketless: bool | None = None,
            extra_dict=None,
            raw_link: bool | None = None,
        ):
            super().__init__(
                id,
                options,
                display_name,
                optional,
                tooltip,
                lazy,
                default,
                control_after_generate,
                socketless=socketless,
                extra_dict=extra_dict,
                raw_link=raw_link,
            )
            self.placeholder, self.chip = placeholder, chip

        def as_dict(self) -> dict:
            return super().as_dict() | _pruned({"placeholder": self.placeholder, "chip": self.chip})


class MultiType:
    """An input that accepts several types (a comma union); ``id`` may be a widget input to wrap."""

    class Input(Input):
        def __init__(
            self,
            id: Any,
            types: list,
            display_name: str | None = None,
            optional=False,
            tooltip: str | None = None,
            extra_dict=None,
            raw_link: bool | None = None,
        ):
            wrapped = id if isinstance(id, Input) else None
            self.input_override = wrapped
            if wrapped is not None:
                id, optional = wrapped.id, optional or wrapped.optional
                display_name, tooltip = display_name or wrapped.display_name, tooltip or wrapped.tooltip
            super().__init__(
                id, display_name, optional, tooltip, wrapped.lazy if wrapped else None, extra_dict, raw_link
            )
            names = [wrapped.get_io_type()] if wrapped else []
            names += [getattr(t, "io_type", t) for t in types]
            self.io_type = ",".join(dict.fromkeys(str(n) for n in names))

        def as_dict(self) -> dict:
            own = self.input_override.as_dict() if self.input_override else {}
            return own | super().as_dict()


# Link-only socket types: class name -> io_type
SOCKET_TYPES = {
    "Image": "IMAGE",
    "Mask": "MASK",
    "Latent": "LATENT",
    "Conditioning": "CONDITIONING",
    "Sampler": "SAMPLER",
    "Sigmas": "SIGMAS",
    "Noise": "NOISE",
    "Guider": "GUIDER",
    "Clip": "CLIP",
    "ControlNet": "CONTROL_NET",
    "Vae": "VAE",
    "Model": "MODEL",
    "ClipVision": "CLIP_VISION",
    "ClipVisionOutput": "CLIP_VISION_OUTPUT",
    "StyleModel": "STYLE_MODEL",
    "Gligen": "GLIGEN",
    "UpscaleModel": "UPSCALE_MODEL",
    "Audio": "AUDIO",
    "Video": "VIDEO",
    "Hooks": "HOOKS",
    "HookKeyframes": "HOOK_KEYFRAMES",
    "TimestepsRange": "TIMESTEPS_RANGE",
    "LatentOperation": "LATENT_OPERATION",
    "Photomaker": "PHOTOMAKER",
    "Tracks": "TRACKS",
    "Point": "POINT",
    "FaceAnalysis": "FACE_ANALYSIS",
    "BBOX": "BBOX",
    "SEGS": "SEGS",
    "LoraModel": "LORA_MODEL",
    "Mesh": "MESH",
    "Voxel": "VOXEL",
    "SVG": "SVG",
    "Webcam": "WEBCAM",
    "AnyType": "*",
}
for _name, _io_type in SOCKET_TYPES.items():
    globals()[_name] = comfytype(_io_type)(type(_name, (ComfyTypeIO,), {"__module__": __name__}))


class Hidden(str, Enum):  # noqa: UP042 -- ComfyUI API is (str, Enum): its str() is "Class.member", StrEnum would print the value
    """Values the engine fills in; a V3 node reads them as ``cls.hidden.<name>``."""

    unique_id = "UNIQUE_ID"
    prompt = "PROMPT"
    extra_pnginfo = "EXTRA_PNGINFO"
    dynprompt = "DYNPROMPT"
    auth_token_comfy_org = "AUTH_TOKEN_COMFY_ORG"
    api_key_comfy_org = "API_KEY_COMFY_ORG"


class HiddenHolder:
    def __init__(
        self,
        unique_id: str | None = None,
        prompt: Any = None,
        extra_pnginfo: Any = None,
        dynprompt: Any = None,
        auth_token_comfy_org: str | None = None,
        api_key_comfy_org: str | None = None,
        **kwargs: Any,
    ):
        self.unique_id, self.prompt, self.extra_pnginfo, self.dynprompt = unique_id, prompt, extra_pnginfo, dynprompt
        self.auth_token_comfy_org, self.api_key_comfy_org = auth_token_comfy_org, api_key_comfy_org

    def __getattr__(self, key: str) -> None:  # a hidden value the node did not declare
        if key.startswith("__"):
            raise AttributeError(key)
        return None

    @classmethod
    def from_dict(cls, values: dict) -> HiddenHolder:
        """From ``{Hidden member or its value: value}``."""
        return cls(**{Hidden(k).name: v for k, v in values.items()})
