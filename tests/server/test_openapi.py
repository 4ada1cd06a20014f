"""The OpenAPI document covers every route, and Schemathesis run against a real server (a
subprocess of main.py on a free port, base directory in tmp) finds no 5xx on any operation."""

import collections
import json
import time

import aiohttp
import pytest
from aiohttp import web

from nodeflow.engine.executor import Engine
from nodeflow.server import bodies
from nodeflow.server.app import create_app
from nodeflow.server.config import ServerConfig
from nodeflow.server.openapi import DOCUMENT, MODEL_REF
from tests.helpers.server_process import ROOT, free_port, start


def registered_operations(app: web.Application) -> set[tuple[str, str]]:
    """(METHOD, path) of every route, /api prefix removed; static files, the websocket and the
    HEAD twins of GET routes left out."""
    found = set()
    for route in app.router.routes():
        if isinstance(route.resource, web.StaticResource) or route.method == "HEAD":
            continue
        path = route.resource.canonical
        path = path[len("/api") :] if path.startswith("/api/") else path
        if path == "/ws":
            continue
        found.add((route.method, path))
    return found


def documented_operations() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item}


async def test_every_route_is_documented_and_nothing_else(api):
    registered = registered_operations(api.client.server.app)
    assert len(registered) >= 28
    assert registered - documented_operations() == set(), "routes missing from nodeflow/server/openapi.py"
    assert documented_operations() - registered == set(), "documented operations no route serves"
    for path in ("/openapi.json", "/api/openapi.json"):
        r = await api.client.get(path)
        assert r.status == 200 and r.content_type == "application/json"
        assert await r.json() == json.loads(json.dumps(DOCUMENT))
    assert "/api" in DOCUMENT["info"]["description"]
    operation_ids = [op["operationId"] for item in DOCUMENT["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


async def test_openapi_is_behind_the_same_guards(api):
    r = await api.client.get("/openapi.json", headers={"Host": "rebind.evil.com"})
    assert r.status == 403


# Every JSON request body: the route validates with a model in bodies.py, the document shows its schema.
BODY_MODELS = {
    "/prompt": bodies.PromptBody,
    "/queue": bodies.ClearOrDelete,
    "/history": bodies.ClearOrDelete,
    "/interrupt": bodies.InterruptBody,
    "/free": bodies.FreeBody,
    "/nodeflow/convert": bodies.ConvertBody,
}


FORM_MODELS = {"/upload/image": bodies.UploadForm, "/upload/mask": bodies.MaskUploadForm}


def model_schema(model: type[bodies.Body]) -> dict:
    """The model's JSON Schema; the models it nests are in components/schemas, where its $refs point."""
    schema = model.model_json_schema(ref_template=MODEL_REF)
    for name, definition in schema.pop("$defs", {}).items():
        assert DOCUMENT["components"]["schemas"][name] == definition, name
    return schema


def test_request_body_schemas_are_the_models_schemas():
    for media, models in (("application/json", BODY_MODELS), ("multipart/form-data", FORM_MODELS)):
        for path, model in models.items():
            documented = DOCUMENT["paths"][path]["post"]["requestBody"]["content"][media]["schema"]
            assert documented == model_schema(model), path
    assert "ImageRef" in DOCUMENT["components"]["schemas"]  # original_ref's JSON, nested in the mask form
    json_bodies = {
        path
        for path, item in DOCUMENT["paths"].items()
        for operation in item.values()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
        and operation["requestBody"]["content"]["application/json"]["schema"] != {}  # userdata: any JSON file
    }
    assert json_bodies == set(BODY_MODELS), "a JSON body without a model in nodeflow/server/bodies.py"
    assert DOCUMENT["openapi"].startswith("3.1")  # JSON Schema 2020-12, what pydantic writes


def test_documented_request_bodies():
    paths = DOCUMENT["paths"]
    prompt = paths["/prompt"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"prompt", "workflow", "client_id", "extra_data", "front", "number", "partial_execution_targets"} <= set(
        prompt["properties"]
    )
    assert prompt["properties"]["prompt_id"]["anyOf"][0] == {"type": "string", "maxLength": 200}
    for path in ("/queue", "/history"):
        body = paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body["properties"]["clear"]["type"] == "boolean"
        assert body["properties"]["delete"]["anyOf"][0] == {"type": "array", "items": {"type": "string"}}
    assert "multipart/form-data" in paths["/upload/image"]["post"]["requestBody"]["content"]
    view = {p["name"] for p in paths["/view"]["get"]["parameters"]}
    assert view == {"filename", "subfolder", "type", "preview", "channel"}
    assert {p["name"] for p in paths["/history"]["get"]["parameters"]} >= {"max_items"}
    assert set(paths["/userdata/{file}"]["post"]["responses"]) >= {"200", "400", "403", "409", "413"}


BAD_BODIES = [  # (path, body, the field the 400 must name, words of what to send)
    ("/prompt", {"prompt": [1]}, "'prompt'", "API format"),
    ("/prompt", {"prompt": {}, "client_id": 5}, "'client_id'", "websocket client id"),
    ("/prompt", {"prompt": {}, "extra_data": []}, "'extra_data'", "an object"),
    ("/prompt", {"prompt": {}, "number": "3"}, "'number'", "finite number"),
    ("/prompt", {"prompt": {}, "partial_execution_targets": ["1", 2]}, "'partial_execution_targets.1'", "node ids"),
    ("/prompt", {"prompt": {}, "prompt_id": "x" * 201}, "'prompt_id'", "at most 200 characters"),
    ("/prompt", {"prompt": {}, "front": "maybe"}, "'front'", "true to queue"),
    ("/queue", {"delete": "abc"}, "'delete'", "list of prompt ids"),
    ("/history", {"delete": [1]}, "'delete.0'", "list of prompt ids"),
    ("/history", {"clear": "x"}, "'clear'", "true to remove"),
    ("/interrupt", {"prompt_id": 7}, "'prompt_id'", "the id of the prompt"),
    ("/free", {"unload_models": []}, "'unload_models'", "true to unload"),
    ("/nodeflow/convert", {"to": "api"}, "'workflow'", "the workflow"),
    ("/nodeflow/convert", {"workflow": {}, "to": "png"}, "'to'", "'api', 'nodeflow' or 'comfyui'"),
]


@pytest.mark.parametrize(("path", "body", "field", "hint"), BAD_BODIES)
async def test_a_bad_body_is_a_400_naming_the_field(api, path, body, field, hint):
    r = await api.client.post(path, json=body)
    assert r.status == 400
    answer = await r.json()
    message = answer["error"]["message"]
    assert message.startswith(field) and hint in message, message
    if path == "/prompt":  # ComfyUI's error body, as before
        assert answer == {
            "error": {"type": "invalid_prompt", "message": message, "details": "", "extra_info": {}},
            "node_errors": {},
        }


BAD_FORMS = [  # (path, form fields, the field the 400 must name, words of what to send)
    ("/upload/image", {"type": "models"}, "'type'", "'input', 'output' or 'temp'"),
    ("/upload/image", {"image": None}, "'image'", "the image file"),
    ("/upload/mask", {"original_ref": "nope"}, "'original_ref'", "invalid JSON"),
    ("/upload/mask", {"original_ref": '{"filename": 3}'}, "'original_ref.filename'", "naming the original image"),
    ("/upload/mask", {"original_ref": '{"filename": "a.png", "type": "models"}'}, "'original_ref.type'", "input"),
]


@pytest.mark.parametrize(("path", "fields", "field", "hint"), BAD_FORMS)
async def test_a_bad_upload_form_is_a_400_naming_the_field(api, path, fields, field, hint):
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.new("RGBA", (4, 4)).save(png, format="PNG")
    form = aiohttp.FormData(default_to_multipart=True)
    if fields.get("image", True) is not None:
        form.add_field("image", png.getvalue(), filename="a.png", content_type="image/png")
    for key, value in fields.items():
        if value is not None:
            form.add_field(key, value)
    r = await api.client.post(path, data=form)
    assert r.status == 400
    message = (await r.json())["error"]["message"]
    assert message.startswith(field) and hint in message, message


async def test_good_bodies_still_pass(api):
    for body in ({"front": 1}, {"clear": True, "delete": []}, {}):
        r = await api.client.post("/queue", json=body)
        assert r.status == 200, await r.text()
    r = await api.client.post("/interrupt", data=b"")
    assert r.status == 200
    r = await api.client.post("/prompt", json={"prompt": {"1": {"class_type": "Show", "inputs": {"value": 1}}}, "x": 1})
    assert r.status == 200 and "prompt_id" in await r.json()  # unknown keys are ignored, as ComfyUI does


# -- Schemathesis against a real server ------------------------------------------------------------

MAX_EXAMPLES = {"positive": 25, "negative": 15}


@pytest.fixture
def server(tmp_path):
    port = free_port()
    proc = start(tmp_path, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def run_schemathesis(base_url: str) -> tuple[collections.Counter, list[str], set[str]]:
    """Every operation, positive and negative cases; returns per-status counts, failures, operations."""
    import requests
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode

    checks = [
        schemathesis.checks.status_code_conformance,
        schemathesis.checks.content_type_conformance,
        schemathesis.checks.response_schema_conformance,
    ]
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", timeout=10)
    session = requests.Session()
    statuses: collections.Counter = collections.Counter()
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]

    def exerciser(operation, mode):
        """The hypothesis test body for one operation and generation mode."""

        def exercise(case):
            try:
                response = case.call(base_url=base_url, session=session, timeout=20)
            except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, UnicodeError, ValueError):
                statuses["unsendable"] += 1  # the client refused to send it (e.g. a header it cannot encode)
                return
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                failures.append(
                    f"{operation.label} [{mode.value}] -> {response.status_code}: "
                    f"{response.text[:300]}\n    {case.as_curl_command()}"
                )
                return
            try:
                case.validate_response(response, checks=checks)
            except (Exception, BaseExceptionGroup) as exc:  # a documented-status/content/schema mismatch
                failures.append(
                    f"{operation.label} [{mode.value}] -> {response.status_code}: "
                    f"{str(exc)[:400]}\n    {case.as_curl_command()}"
                )

        return exercise

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            test = settings(
                max_examples=MAX_EXAMPLES[mode.value],
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )(given(case=operation.as_strategy(generation_mode=mode))(exerciser(operation, mode)))
            try:
                test()
            except Unsatisfiable:  # nothing to negate (no parameters, no body)
                assert mode == GenerationMode.NEGATIVE, operation.label
    return statuses, failures, {operation.label for operation in operations}


@pytest.mark.slow  # hundreds of generated requests against a server process
@pytest.mark.timeout(240)
def test_schemathesis_finds_no_server_errors(server, capsys):
    started = time.time()
    statuses, failures, operations = run_schemathesis(server)
    seconds = time.time() - started
    with capsys.disabled():
        print(
            f"\nschemathesis: {len(operations)} operations, {sum(statuses.values())} requests in {seconds:.1f} s, "
            f"statuses {dict(sorted(statuses.items(), key=str))}"
        )
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:40])
    # Schemathesis leaves out the document's own URL; the route test above covers it.
    assert operations == {f"{m} {p}" for m, p in documented_operations()} - {"GET /openapi.json"}
    assert not any(isinstance(code, int) and code >= 500 for code in statuses)


# -- Regressions: what Schemathesis found ----------------------------------------------------------


async def test_huge_history_numbers_are_not_a_server_error(api):
    r = await api.client.get("/history", params={"max_items": "5", "offset": str(10**40)})
    assert r.status == 200 and await r.json() == {}
    r = await api.client.get("/history", params={"max_items": str(10**40)})
    assert r.status == 200


async def test_malformed_multipart_part_headers_are_a_400(api):
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="\x1a\xf0\xb1\x9d\xbf"\r\n\r\n{}\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\nPNG\r\n--xyz--\r\n'
    )
    for path in ("/upload/image", "/upload/mask"):
        r = await api.client.post(path, data=body, headers={"Content-Type": "multipart/form-data; boundary=xyz"})
        assert r.status == 400, path
        assert "multipart" in (await r.json())["error"]["message"]


async def test_userdata_names_with_newlines_get_json_answers(aiohttp_client, env, registry):
    # With the editor served, a path no route matched fell through to the static files: an empty 404.
    app = create_app(ServerConfig(web_dir=ROOT / "web"), registry, Engine(registry, env), env)
    client = await aiohttp_client(app)
    r = await client.get("/userdata/a%0Ab.json")
    assert r.status == 404 and r.content_type == "application/json"
    r = await client.post("/userdata/a%0Ab.json", data=b"{}")
    assert r.status == 200 and await r.json() == "a\nb.json"
    r = await client.post("/userdata/a%0Ab.json/move/c%0Ad.json")
    assert r.status == 200 and await r.json() == "c\nd.json"
    assert (await client.get("/userdata/c%0Ad.json")).status == 200
    assert (await client.delete("/userdata/c%0Ad.json")).status == 204


async def test_prompt_number_must_be_finite(api):
    prompt = '{"1": {"class_type": "Show", "inputs": {"value": 1}}}'
    for number in ("1" + "0" * 400, "NaN", "Infinity", "-Infinity", "1e400"):
        r = await api.client.post(
            "/prompt",
            data=f'{{"prompt": {prompt}, "number": {number}}}',
            headers={"Content-Type": "application/json"},
        )
        assert r.status == 400, number
        assert "finite" in (await r.json())["error"]["message"]
    status, body = await api.queue(json.loads(prompt), number=-2.5)
    assert status == 200 and body["number"] == -2.5
    for path in ("/queue", "/history"):  # what the editor reads stays strict JSON
        text = await (await api.client.get(path)).text()
        assert "Infinity" not in text and "NaN" not in text
