"""The OpenAPI 3.1 document of the HTTP API, served at GET /openapi.json (and /api/openapi.json).

The document is data: one entry per operation in OPERATIONS, expanded by small helpers. Every route
the app registers must have an entry (tests/server/test_openapi.py compares it with the router), and
the listed status codes are the ones the handlers and middlewares really return (401/403 come from
the token/Host/Origin guards and apply to every operation). The JSON request bodies are not written
here: each is the JSON Schema of the pydantic model its route validates with (bodies.py).
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from nodeflow import __version__

from . import bodies

routes = web.RouteTableDef()

STR, BOOL, NUM, ANY_OBJ = {"type": "string"}, {"type": "boolean"}, {"type": "number"}, {"type": "object"}
INT0 = {"type": "integer", "minimum": 0}
BINARY = {"type": "string", "format": "binary"}
STR_LIST = {"type": "array", "items": STR}
ERROR_TEXT = {
    400: "the request is malformed or names something unusable (the message says what)",
    401: "an access token is required (only when the server runs with one: ?token=, cookie or Bearer)",
    403: "the Host is not allowed, or a state-changing request came from another origin",
    404: "not found",
    409: "the destination exists and overwrite=false",
    413: "the body is larger than the server accepts (--max-upload-size)",
    415: "send JSON with Content-Type: application/json (a browser form or text/plain body is refused)",
}


def obj(required: tuple[str, ...] = (), **props: Any) -> dict:
    schema: dict = {"type": "object", "properties": props}
    if required:
        schema["required"] = list(required)
    return schema


def query(name: str, schema: dict, description: str, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def path_param(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
        "description": description,
    }


def json_content(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


MODEL_REF = "#/components/schemas/{model}"
MODEL_DEFS: dict[str, dict] = {}  # schemas of models nested in a body, under components/schemas


def body_schema(model: type[bodies.Body]) -> dict:
    """The JSON Schema of a request body model (bodies.py), the one the route validates with."""
    schema = model.model_json_schema(ref_template=MODEL_REF)
    MODEL_DEFS.update(schema.pop("$defs", {}))
    return schema


def op(
    tag: str,
    summary: str,
    ok: dict | None = None,
    *,
    status: int = 200,
    ok_content: dict | None = None,
    errors: tuple[int, ...] = (),
    params: list[dict] | None = None,
    body: dict | None = None,
    body_required: bool = False,
) -> dict:
    """One operation. ``ok`` is the JSON schema of the success body (``ok_content`` for other media
    types, neither for an empty body); ``errors`` the 4xx codes the route itself returns."""
    success: dict = {"description": "success"}
    if ok is not None or ok_content is not None:
        success["content"] = ok_content or json_content(ok)
    responses = {str(status): success}
    for code in sorted({*errors, 401, 403}):
        responses[str(code)] = {"$ref": f"#/components/responses/E{code}"}
    operation: dict = {"tags": [tag], "summary": summary, "responses": responses}
    if params:
        operation["parameters"] = params
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": body}
    return operation


QUEUE_ITEM = {"type": "array", "description": "[number, prompt_id, prompt, extra_data, outputs_to_execute]"}
HISTORY = {
    "type": "object",
    "description": "prompt_id -> entry",
    "additionalProperties": obj(
        ("prompt", "outputs", "status"),
        prompt=QUEUE_ITEM,
        outputs=ANY_OBJ,
        status=obj(status_str=STR, completed=BOOL, messages={"type": "array"}),
        meta=ANY_OBJ,
    ),
}
CLEAR_OR_DELETE = json_content(body_schema(bodies.ClearOrDelete))
JSON_BODY_ERRORS = (400, 413, 415)
UPLOADED = obj(("name", "subfolder", "type"), name=STR, subfolder=STR, type=STR)
FILE_PARAM = path_param("file", "path below user/default/, '/' separated (URL-encoded)")
OVERWRITE = query(
    "overwrite",
    {"type": "string", "enum": ["true", "false"], "default": "true"},
    "'false' refuses to replace an existing file (409)",
)
WORKFLOW_FORMATS = list(bodies.WORKFLOW_FORMATS)

OPERATIONS: dict[tuple[str, str], dict] = {
    ("GET", "/"): op(
        "editor",
        "The editor page (plain text when web/ is missing)",
        errors=(),
        ok_content={"text/html": {"schema": STR}, "text/plain": {"schema": STR}},
    ),
    ("GET", "/openapi.json"): op("meta", "This document", ok=ANY_OBJ),
    ("GET", "/prompt"): op(
        "queue",
        "Number of prompts waiting or running",
        ok=obj(("exec_info",), exec_info=obj(("queue_remaining",), queue_remaining=INT0)),
    ),
    ("POST", "/prompt"): op(
        "queue",
        "Validate a prompt and queue it; the valid outputs run even when others have errors",
        ok=obj(("prompt_id", "number", "node_errors"), prompt_id=STR, number=NUM, node_errors=ANY_OBJ),
        errors=JSON_BODY_ERRORS,
        body_required=True,
        body=json_content(body_schema(bodies.PromptBody)),
    ),
    ("GET", "/queue"): op(
        "queue",
        "Running and pending prompts",
        ok=obj(
            ("queue_running", "queue_pending"),
            queue_running={"type": "array", "items": QUEUE_ITEM},
            queue_pending={"type": "array", "items": QUEUE_ITEM},
        ),
    ),
    ("POST", "/queue"): op(
        "queue",
        "Clear the pending queue or delete prompts (deleting the running one interrupts it)",
        errors=JSON_BODY_ERRORS,
        body=CLEAR_OR_DELETE,
    ),
    ("POST", "/interrupt"): op(
        "queue",
        "Interrupt the running prompt (only that one when prompt_id is given)",
        errors=JSON_BODY_ERRORS,
        body=json_content(body_schema(bodies.InterruptBody)),
    ),
    ("GET", "/history"): op(
        "history",
        "Finished prompts, oldest first",
        ok=HISTORY,
        errors=(400,),
        params=[
            query("max_items", INT0, "newest N entries only"),
            query("offset", INT0, "with max_items: skip this many newest entries first"),
        ],
    ),
    ("GET", "/history/{prompt_id}"): op(
        "history",
        "One finished prompt ({} when unknown)",
        ok=HISTORY,
        params=[path_param("prompt_id", "the id POST /prompt returned")],
    ),
    ("POST", "/history"): op(
        "history", "Clear the history or delete entries", errors=JSON_BODY_ERRORS, body=CLEAR_OR_DELETE
    ),
    ("GET", "/object_info"): op("nodes", "Every node class, ComfyUI object_info format", ok=ANY_OBJ),
    ("GET", "/object_info/{node_class}"): op(
        "nodes", "One node class", ok=ANY_OBJ, errors=(404,), params=[path_param("node_class", "node class name")]
    ),
    ("GET", "/models"): op("models", "Model folder kinds", ok=STR_LIST),
    ("GET", "/models/{folder}"): op(
        "models",
        "Files in one model folder kind",
        ok=STR_LIST,
        errors=(404,),
        params=[path_param("folder", "e.g. checkpoints, loras, vae")],
    ),
    ("GET", "/embeddings"): op("models", "Textual inversion embedding names", ok=STR_LIST),
    ("GET", "/system_stats"): op(
        "system",
        "OS, Python and device facts",
        ok=obj(("system", "devices"), system=ANY_OBJ, devices={"type": "array"}),
    ),
    ("POST", "/free"): op(
        "system",
        "Unload models and/or free cached memory",
        errors=JSON_BODY_ERRORS,
        body=json_content(body_schema(bodies.FreeBody)),
    ),
    ("GET", "/features"): op("system", "Server feature flags", ok=ANY_OBJ),
    ("GET", "/extensions"): op("plugins", "JavaScript files the editor loads from plugins", ok=STR_LIST),
    ("GET", "/nodeflow/plugins"): op(
        "plugins", "Every plugin pack found, with status, time, errors, nodes", ok={"type": "array", "items": ANY_OBJ}
    ),
    ("GET", "/nodeflow/workers"): op(
        "system",
        "Who runs prompts: each worker's node, device, memory, loaded models, "
        "current prompt and prompts done (one entry without --ray)",
        ok={"type": "array", "items": ANY_OBJ},
    ),
    ("GET", "/workflow_templates"): op(
        "workflows",
        "Plugin packs' example workflows (ComfyUI): {pack: [names]}",
        ok={"type": "object", "additionalProperties": STR_LIST},
    ),
    ("GET", "/workflow_templates/{pack}/{file}"): op(
        "workflows",
        "One example workflow (.json) or its thumbnail from a pack's example_workflows/",
        ok_content={"application/json": {"schema": {}}, "image/*": {"schema": BINARY}},
        errors=(400, 404),
        params=[path_param("pack", "plugin pack folder name"), path_param("file", "e.g. my_example.json")],
    ),
    ("GET", "/nodeflow/templates"): op(
        "workflows",
        "Every example workflow: NodeFlow's (web/examples) and the packs'",
        ok={
            "type": "array",
            "items": obj(
                ("source", "name", "url"), source=STR, name=STR, url=STR, thumbnail={"type": ["string", "null"]}
            ),
        },
    ),
    ("GET", "/nodeflow/model_inputs"): op(
        "models",
        "Which model folder each file-picking input reads: {node class: {input: folder}}",
        ok={"type": "object", "additionalProperties": {"type": "object", "additionalProperties": STR}},
    ),
    ("POST", "/upload/image"): op(
        "files",
        "Upload an image into input/ (or output/, temp/); a free name is chosen unless overwrite",
        ok=UPLOADED,
        errors=(400, 413),
        body_required=True,
        body={"multipart/form-data": {"schema": body_schema(bodies.UploadForm)}},
    ),
    ("POST", "/upload/mask"): op(
        "files",
        "Upload a mask: its alpha becomes the alpha of original_ref, saved as PNG",
        ok=UPLOADED,
        errors=(400, 404, 413),
        body_required=True,
        body={"multipart/form-data": {"schema": body_schema(bodies.MaskUploadForm)}},
    ),
    ("GET", "/view"): op(
        "files",
        "A file from input/, output/ or temp/ (images inline, other kinds as attachments)",
        ok_content={"*/*": {"schema": BINARY}},
        errors=(400, 404),
        params=[
            query("filename", {**STR, "minLength": 1}, "file name", required=True),
            query("subfolder", STR, "folder below the type's folder"),
            query("type", {"type": "string", "enum": ["input", "output", "temp"], "default": "output"}, "folder"),
            query("preview", STR, "re-encode: 'webp', 'jpeg' or 'png', optionally ';QUALITY' (e.g. webp;90)"),
            query("channel", {"type": "string", "enum": ["rgb", "a"]}, "'rgb' drops alpha, 'a' shows only alpha"),
        ],
    ),
    ("GET", "/userdata"): op(
        "userdata",
        "Files in user/default/ (or a folder below it)",
        ok=STR_LIST,
        errors=(400, 404),
        params=[
            query("dir", STR, "folder below user/default/"),
            query("recurse", {"type": "string", "enum": ["true", "false"]}, "list subfolders"),
        ],
    ),
    ("GET", "/userdata/{file}"): op(
        "userdata",
        "Read a user data file (served as an attachment)",
        errors=(400, 404),
        ok_content={"application/json": {"schema": {}}, "application/octet-stream": {"schema": BINARY}},
        params=[FILE_PARAM],
    ),
    ("POST", "/userdata/{file}"): op(
        "userdata",
        "Write a user data file (the body, as is); answers its path",
        ok=STR,
        errors=(400, 409, 413),
        params=[FILE_PARAM, OVERWRITE],
        body={"application/json": {"schema": {}}, "application/octet-stream": {"schema": BINARY}},
    ),
    ("POST", "/userdata/{file}/move/{dest}"): op(
        "userdata",
        "Move or rename a user data file; answers the new path",
        ok=STR,
        errors=(400, 404, 409),
        params=[FILE_PARAM, path_param("dest", "new path below user/default/ (URL-encoded)"), OVERWRITE],
    ),
    ("DELETE", "/userdata/{file}"): op(
        "userdata", "Delete a user data file", status=204, errors=(400, 404), params=[FILE_PARAM]
    ),
    ("POST", "/nodeflow/convert"): op(
        "workflows",
        "Convert a workflow (any format, or a PNG/WebP carrying one) to api, nodeflow or comfyui",
        ok=obj(
            ("from", "to", "result", "warnings"),
            **{"from": STR},
            to={"type": "string", "enum": WORKFLOW_FORMATS},
            result={},
            warnings={"type": "array", "items": ANY_OBJ},
        ),
        errors=JSON_BODY_ERRORS,
        body_required=True,
        params=[
            query(
                "to",
                {"type": "string", "enum": WORKFLOW_FORMATS, "default": "nodeflow"},
                "target format when the body is an image",
            )
        ],
        body={
            **json_content(body_schema(bodies.ConvertBody)),
            "image/png": {"schema": BINARY},
            "image/webp": {"schema": BINARY},
        },
    ),
}

ERROR_SCHEMA = obj(
    ("error",),
    error=obj(("type", "message"), type=STR, message=STR, details=STR, extra_info=ANY_OBJ),
    node_errors=ANY_OBJ,
)
DESCRIPTION = """The HTTP API of NodeFlow (ComfyUI-compatible). Every path is also served under the `/api`
prefix (`/api/prompt` = `/prompt`). Live progress comes over the websocket `/ws?clientId=ID`, which is
not described here. Loopback Host names are always served; others need `--allowed-hosts`. A server
started with an access token wants it on every request (`?token=`, the cookie it sets, or
`Authorization: Bearer`). State-changing requests from other origins are refused (403) unless the
origin is named with `--enable-cors-header`."""


def build_document() -> dict:
    paths: dict[str, dict] = {}
    for (method, path), operation in OPERATIONS.items():
        operation = copy.deepcopy(operation)
        operation["operationId"] = (
            method.lower() + path.replace("/", "_").replace("{", "").replace("}", "").replace(".", "_")
        ).rstrip("_") or method.lower()
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "NodeFlow", "version": __version__, "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, **MODEL_DEFS},
            "responses": {
                f"E{code}": {"description": text, "content": json_content({"$ref": "#/components/schemas/Error"})}
                for code, text in ERROR_TEXT.items()
            },
        },
    }


DOCUMENT = build_document()


@routes.get("/openapi.json")
async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(DOCUMENT)
