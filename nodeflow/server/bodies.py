"""The JSON request bodies of the HTTP API, declared once: each model validates its route's body
(``parse``) and writes that body's schema in /openapi.json (``openapi.body_schema``).

Types are strict (a string is not taken for a number, nor a number for a string) except the
on/off flags, which also take 1/0 and 'true'/'false' (ComfyUI's server reads them as truthy values).
Each field's description says what to send; a 400 names the field and repeats it.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Json,
    ValidationError,
    WithJsonSchema,
)

from .requests import BadRequest

Format = Literal["api", "nodeflow", "comfyui"]
WORKFLOW_FORMATS = get_args(Format)
PROMPT_NODES = {
    "type": "object",
    "description": "API format: {node_id: {class_type, inputs}}",
    "additionalProperties": {
        "type": "object",
        "properties": {"class_type": {"type": "string"}, "inputs": {"type": "object"}},
        "required": ["class_type", "inputs"],
    },
}


def _finite_number(value: Any) -> int | float:
    """A JSON number (not a boolean) that fits a float: NaN, infinities and huge integers are refused."""
    try:
        finite = not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        finite = False
    if not finite:
        raise ValueError(f"got {str(value)[:40]}, not a finite number")
    return value


FiniteNumber = Annotated[Any, AfterValidator(_finite_number), WithJsonSchema({"type": "number"})]


def _flag(description: str) -> Any:
    return Field(False, strict=False, description=description)


class Body(BaseModel):
    """A request body: unknown keys are ignored (ComfyUI clients send their own extras)."""

    model_config = ConfigDict(strict=True, extra="ignore")


class PromptBody(Body):
    """POST /prompt. The nodes themselves are checked by graph/validate.py, with ComfyUI's node_errors."""

    prompt: Annotated[dict[str, Any], WithJsonSchema(PROMPT_NODES)] | None = Field(
        None, description="the nodes, API format {node_id: {class_type, inputs}}; or send 'workflow' instead"
    )
    workflow: dict[str, Any] | None = Field(
        None, description="an editor-format workflow (NodeFlow or ComfyUI), converted when 'prompt' is absent"
    )
    client_id: str | None = Field(None, description="the websocket client id that receives the progress events")
    extra_data: dict[str, Any] = Field(
        default_factory=dict, description="an object passed to nodes (extra_pnginfo, ...)"
    )
    front: bool = _flag("true to queue before the pending prompts")
    number: FiniteNumber | None = Field(None, description="an explicit queue position, a finite number")
    partial_execution_targets: list[str] | None = Field(
        None, description="a list of output node ids to run (only these)"
    )
    prompt_id: str | None = Field(
        None, max_length=200, description="an own id, a string of at most 200 characters (a new one when left out)"
    )


class ClearOrDelete(Body):
    """POST /queue and POST /history."""

    clear: bool = _flag("true to remove everything")
    delete: list[str] | None = Field(None, description="a list of prompt ids (strings) to remove")


class InterruptBody(Body):
    """POST /interrupt."""

    prompt_id: str | None = Field(None, description="the id of the prompt to interrupt (only if it is running)")


class FreeBody(Body):
    """POST /free."""

    unload_models: bool = _flag("true to unload every model")
    free_memory: bool = _flag("true to free cached memory")


class ConvertBody(Body):
    """POST /nodeflow/convert (JSON; an image body is read for its embedded workflow instead)."""

    workflow: dict[str, Any] = Field(description="the workflow: NodeFlow, ComfyUI editor format or an API prompt")
    to: Format = Field("api", description="the target format: 'api', 'nodeflow' or 'comfyui'")


M = TypeVar("M", bound=Body)


class UploadForm(Body):
    """POST /upload/image (multipart/form-data): the file plus text fields."""

    image: Annotated[bytes, WithJsonSchema({"type": "string", "format": "binary"})] = Field(
        description="the image file: PNG, JPEG, WebP, GIF, BMP or TIFF, its name's extension agreeing with the content"
    )
    type: Annotated[Literal["input", "output", "temp"], BeforeValidator(lambda v: v or "input")] = Field(
        "input", description="the folder: 'input', 'output' or 'temp'"
    )
    subfolder: str = Field("", description="a folder below the target folder (created if missing)")
    overwrite: str = Field("", description="'true' or '1' to replace a file of the same name")


class ImageRef(Body):
    filename: str = Field(min_length=1, description="the original image's file name")
    subfolder: str = ""
    type: Literal["input", "output", "temp"] = "input"


class MaskUploadForm(UploadForm):
    """POST /upload/mask: the mask's alpha becomes the alpha of original_ref."""

    original_ref: Json[ImageRef] = Field(
        description='JSON {"filename", "subfolder"?, "type"?} naming the original image'
    )


def describe(model: type[Body], exc: ValidationError) -> str:
    """One sentence per error: the field's path, what was wrong, what to send."""
    parts = []
    for error in exc.errors(include_url=False)[:3]:
        loc = ".".join(str(p) for p in error["loc"]) or "body"
        field = model.model_fields.get(str(error["loc"][0])) if error["loc"] else None
        hint = f"; send {field.description}" if field is not None and field.description else ""
        message = error["msg"].removeprefix("Value error, ")
        message = message[0].lower() + message[1:]
        parts.append(f"'{loc}': {message}{hint}")
    return "; ".join(parts)[:500]


def parse(model: type[M], data: dict) -> M:
    """The body as a model instance; BadRequest (400) naming the field when it does not fit."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(describe(model, exc)) from None
