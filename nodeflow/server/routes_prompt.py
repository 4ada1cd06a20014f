"""POST/GET /prompt, /queue, /interrupt, /history."""

from __future__ import annotations

import asyncio
import uuid

from aiohttp import web

from nodeflow.graph.validate import validate_prompt
from nodeflow.workflow.share import shareable_pnginfo

from .bodies import ClearOrDelete, InterruptBody, PromptBody, parse
from .keys import BROADCAST_STATUS, DB, ENV, REGISTRY, STORE, WORKER, WORKFLOW_TO_PROMPT
from .queue_store import QueuedPrompt
from .requests import BadRequest, bad, json_object

routes = web.RouteTableDef()
SQLITE_MAX_INT = 2**63 - 1


def _invalid(message: str, details: str = "", status: int = 400) -> web.Response:
    return web.json_response(
        {
            "error": {"type": "invalid_prompt", "message": message, "details": details, "extra_info": {}},
            "node_errors": {},
        },
        status=status,
    )


def _shareable(app: web.Application, extra_data: dict) -> dict:
    """extra_pnginfo.workflow in ComfyUI's format, NodeFlow's beside it (nodeflow/workflow/share.py)."""
    info = extra_data.get("extra_pnginfo")
    shared = shareable_pnginfo(info, lambda types: app[REGISTRY].object_info(app[ENV], types))
    return extra_data if shared is info else {**extra_data, "extra_pnginfo": shared}


@routes.get("/prompt")
async def get_prompt(request: web.Request) -> web.Response:
    remaining = await request.app[DB](request.app[STORE].remaining)
    return web.json_response({"exec_info": {"queue_remaining": remaining}})


@routes.post("/prompt")
async def post_prompt(request: web.Request) -> web.Response:
    app = request.app
    try:
        body = parse(PromptBody, await json_object(request))
    except BadRequest as exc:
        return _invalid(exc.message, status=exc.status)
    prompt = body.prompt
    if prompt is None and body.workflow is not None and app.get(WORKFLOW_TO_PROMPT):
        try:
            prompt, _warnings = await asyncio.to_thread(app[WORKFLOW_TO_PROMPT], body.workflow)
        except ValueError as exc:
            return _invalid(f"the workflow could not be converted: {exc}")
    if not isinstance(prompt, dict):
        return _invalid(
            "the body needs a 'prompt' object (API format: {node_id: {class_type, inputs}})"
            + (" or a 'workflow' (editor format)" if app.get(WORKFLOW_TO_PROMPT) else ""),
            f"got {type(prompt).__name__} for 'prompt'",
        )
    extra_data, client_id, number = body.extra_data, body.client_id, body.number
    targets = body.partial_execution_targets
    prompt_id = body.prompt_id or uuid.uuid4().hex
    store, db = app[STORE], app[DB]
    if await db(store.exists, prompt_id):
        return _invalid(f"a prompt with id {prompt_id!r} already exists; leave prompt_id out to get a new one")

    check_models = getattr(app[WORKER], "check_models", None)  # the Ray pool: models no worker has
    missing = check_models(prompt) if check_models is not None else {}
    if missing:
        return web.json_response(
            {
                "error": {
                    "type": "prompt_outputs_failed_validation",
                    "message": "Prompt outputs failed validation",
                    "details": "; ".join(e["details"] for n in missing.values() for e in n["errors"]),
                    "extra_info": {},
                },
                "node_errors": missing,
            },
            status=400,
        )
    # validation lists model and input folders: off the loop
    validation = await asyncio.to_thread(validate_prompt, app[REGISTRY], app[ENV], prompt, targets)
    if not validation.ok:
        return web.json_response({"error": validation.error, "node_errors": validation.node_errors}, status=400)

    if number is None:
        number = await db(store.next_number, front=body.front)
    extra_data = await asyncio.to_thread(_shareable, app, extra_data)
    if client_id:
        extra_data = {**extra_data, "client_id": client_id}
    added = await db(
        store.add,
        QueuedPrompt(
            prompt_id, float(number), {str(k): v for k, v in prompt.items()}, extra_data, validation.outputs, client_id
        ),
    )
    if not added:  # the same prompt_id posted twice at once
        return _invalid(f"a prompt with id {prompt_id!r} already exists; leave prompt_id out to get a new one")
    app[WORKER].notify()
    await app[BROADCAST_STATUS]()
    return web.json_response({"prompt_id": prompt_id, "number": number, "node_errors": validation.node_errors})


@routes.get("/queue")
async def get_queue(request: web.Request) -> web.Response:
    running, pending = await request.app[DB](request.app[STORE].queue)
    return web.json_response(
        {"queue_running": [p.as_queue_item() for p in running], "queue_pending": [p.as_queue_item() for p in pending]}
    )


async def _clear_or_delete(request: web.Request, db, clear, delete) -> list[str] | web.Response:
    """The shared body of POST /queue and POST /history: {clear?: bool, delete?: [ids]};
    ``clear()`` and ``delete(ids)`` run through ``db`` (the store's thread)."""
    try:
        body = parse(ClearOrDelete, await json_object(request, allow_empty=True))
    except BadRequest as exc:
        return bad(exc)
    if body.clear:
        await db(clear)
    if body.delete:
        await db(delete, body.delete)
    return body.delete or []


@routes.post("/queue")
async def post_queue(request: web.Request) -> web.Response:
    store, worker, db = request.app[STORE], request.app[WORKER], request.app[DB]
    done = await _clear_or_delete(request, db, store.delete_pending, store.delete_pending)
    if isinstance(done, web.Response):
        return done
    for prompt_id in done:  # deleting the running prompt interrupts it
        worker.interrupt_prompt(prompt_id)
    await request.app[BROADCAST_STATUS]()
    return web.Response(status=200)


@routes.post("/interrupt")
async def post_interrupt(request: web.Request) -> web.Response:
    try:
        body = parse(InterruptBody, await json_object(request, allow_empty=True))
    except BadRequest as exc:
        return bad(exc)
    request.app[WORKER].interrupt_prompt(body.prompt_id)
    return web.Response(status=200)


def _int_param(request: web.Request, name: str, default: int | None) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"query parameter '{name}' must be a whole number, got {raw[:50]!r}") from None
    if value < 0:
        raise BadRequest(f"query parameter '{name}' must not be negative")
    return min(value, SQLITE_MAX_INT)  # larger means "all"; SQLite cannot take more than 64 bits


@routes.get("/history")
async def get_history(request: web.Request) -> web.Response:
    try:
        max_items = _int_param(request, "max_items", None)
        offset = _int_param(request, "offset", 0) or 0
    except BadRequest as exc:
        return bad(exc)
    history = await request.app[DB](request.app[STORE].history, max_items=max_items, offset=offset)
    return web.json_response(history)


@routes.get("/history/{prompt_id}")
async def get_history_item(request: web.Request) -> web.Response:
    history = await request.app[DB](request.app[STORE].history, prompt_id=request.match_info["prompt_id"])
    return web.json_response(history)


@routes.post("/history")
async def post_history(request: web.Request) -> web.Response:
    store = request.app[STORE]
    done = await _clear_or_delete(request, request.app[DB], store.delete_history, store.delete_history)
    return done if isinstance(done, web.Response) else web.Response(status=200)
