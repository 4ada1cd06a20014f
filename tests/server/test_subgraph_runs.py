"""A workflow with subgraphs queued on a real server (POST /prompt with a workflow): inner nodes
run under ComfyUI's ids ("outer:inner"), history/events/errors name them, caching is per inner
node, and partial_execution_targets runs only the outputs asked for."""

import pytest

from nodeflow.engine.executor import Engine
from nodeflow.server.app import create_app
from nodeflow.server.config import ServerConfig
from nodeflow.workflow.convert import to_api
from tests.helpers.api_client import Api, receive_until

ADD_TWICE = {
    "id": "add-twice",
    "name": "Add twice",
    "inputs": [{"name": "x", "type": "INT"}, {"name": "b", "type": "INT"}],
    "outputs": [{"name": "sum", "type": "INT"}],
    "nodes": [{"id": "1", "type": "Add", "widgets": {"b": 0}}, {"id": "2", "type": "Add", "widgets": {"b": 100}}],
    "links": [
        {"id": 1, "from": ["@in", 0], "to": ["1", "a"]},
        {"id": 2, "from": ["@in", 1], "to": ["1", "b"]},
        {"id": 3, "from": ["1", 0], "to": ["2", "a"]},
        {"id": 4, "from": ["2", 0], "to": ["@out", "sum"]},
    ],
}
NESTED = {
    "id": "nested",
    "name": "Nested",
    "inputs": [{"name": "v", "type": "INT"}],
    "outputs": [{"name": "out", "type": "INT"}],
    "nodes": [{"id": "5", "type": "add-twice", "widgets": {"b": 1000}}, {"id": "6", "type": "Fail"}],
    "links": [{"id": 1, "from": ["@in", 0], "to": ["5", "x"]}, {"id": 2, "from": ["5", 0], "to": ["@out", "out"]}],
}


def workflow(b10=1, b12=2, promoted=100, with_fail=False):
    nodes = [
        {"id": "1", "type": "Const", "widgets": {"value": 5}},
        {"id": "10", "type": "add-twice", "widgets": {"b": b10}},
        {"id": "11", "type": "Show"},
        {
            "id": "12",
            "type": "add-twice",
            "widgets": {"b": b12},
            "promoted": [{"node": "2", "widget": "b", "value": promoted}],
        },
        {"id": "13", "type": "Show"},
        {"id": "20", "type": "nested"},
        {"id": "21", "type": "Show"},
    ]
    links = [
        {"id": 1, "from": ["1", 0], "to": ["10", "x"]},
        {"id": 2, "from": ["10", 0], "to": ["11", "value"]},
        {"id": 3, "from": ["1", 0], "to": ["12", "x"]},
        {"id": 4, "from": ["12", 0], "to": ["13", "value"]},
        {"id": 5, "from": ["1", 0], "to": ["20", "v"]},
        {"id": 6, "from": ["20", 0], "to": ["21", "value"]},
    ]
    nested = dict(NESTED)
    if with_fail:  # the nested subgraph's output comes from a node that always fails
        nested = {
            **NESTED,
            "links": [
                *NESTED["links"][:1],
                {"id": 2, "from": ["5", 0], "to": ["6", "value"]},
                {"id": 3, "from": ["6", 0], "to": ["@out", "out"]},
            ],
        }
    return {
        "format": "nodeflow-workflow",
        "version": 2,
        "nodes": nodes,
        "links": links,
        "subgraphs": [ADD_TWICE, nested],
    }


@pytest.fixture
async def server(aiohttp_client, env, registry):
    def workflow_to_prompt(data):
        return to_api(data, registry.object_info(env))

    app = create_app(ServerConfig(), registry, Engine(registry, env), env, workflow_to_prompt=workflow_to_prompt)
    return Api(await aiohttp_client(app), env)


async def run(server, ws, body):
    r = await server.post("/prompt", {**body, "client_id": "sg"})
    data = await r.json()
    assert r.status == 200, data
    seen = await receive_until(ws, "execution_success", prompt_id=data["prompt_id"])
    return seen, await server.wait_history(data["prompt_id"])


async def test_inner_nodes_run_with_comfyui_ids_and_cache_per_instance(server):
    ws = await server.ws("sg")
    seen, history = await run(server, ws, {"workflow": workflow()})
    assert history["outputs"] == {"11": {"text": ["106"]}, "13": {"text": ["107"]}, "21": {"text": ["1105"]}}
    assert {"10:1", "10:2", "12:1", "12:2", "20:5:1", "20:5:2"} <= set(history["prompt"][2])
    executing = [d["node"] for k, d in seen if k == "executing" and d["node"]]
    assert {"10:1", "12:2", "20:5:2"} <= set(executing)
    # edit one instance's widget: only that instance's inner nodes and what depends on them run
    seen, history = await run(server, ws, {"workflow": workflow(b12=3)})
    assert history["outputs"]["13"] == {"text": ["108"]}
    ran = [d["node"] for k, d in seen if k == "executing" and d["node"]]
    cached = next(d for k, d in seen if k == "execution_cached")["nodes"]
    executed = {d["node"]: d["output"] for k, d in seen if k == "executed"}  # cached outputs are re-sent
    assert sorted(ran) == ["12:1", "12:2", "13"] and executed["13"] == {"text": ["108"]}
    assert {"1", "10:1", "10:2", "11", "20:5:1", "20:5:2", "21"} == set(cached)
    # a promoted widget is per instance too: only 12:2 (and the Show after it) re-run
    seen, _ = await run(server, ws, {"workflow": workflow(b12=3, promoted=50)})
    assert sorted(d["node"] for k, d in seen if k == "executing" and d["node"]) == ["12:2", "13"]
    await ws.close()


async def test_errors_name_the_inner_node(server):
    ws = await server.ws("sg")
    r = await server.post("/prompt", {"workflow": workflow(with_fail=True), "client_id": "sg"})
    data = await r.json()
    seen = await receive_until(ws, "execution_error", prompt_id=data["prompt_id"])
    error = seen[-1][1]
    assert error["node_id"] == "20:6" and error["node_type"] == "Fail"
    # a validation error names the inner node too
    bad = workflow()
    bad["subgraphs"] = [
        {
            **ADD_TWICE,
            "nodes": [{"id": "1", "type": "Add", "widgets": {"b": 99999}}, ADD_TWICE["nodes"][1]],
            "links": ADD_TWICE["links"][:1] + ADD_TWICE["links"][2:],
        },
        NESTED,
    ]
    r = await server.post("/prompt", {"workflow": bad})
    body = await r.json()
    assert r.status == 400 and {"10:1", "12:1"} <= set(body["node_errors"])
    await ws.close()


async def test_partial_execution_targets_run_only_those_outputs(server):
    ws = await server.ws("sg")
    seen, history = await run(server, ws, {"workflow": workflow(), "partial_execution_targets": ["13"]})
    assert set(history["outputs"]) == {"13"}
    ran = {d["node"] for k, d in seen if k == "executing" and d["node"]}
    assert ran == {"1", "12:1", "12:2", "13"}
    await ws.close()


async def test_convert_route_flattens_subgraphs(server):
    r = await server.post("/nodeflow/convert", {"workflow": workflow(), "to": "api"})
    prompt = (await r.json())["result"]
    assert r.status == 200 and prompt["12:2"]["inputs"] == {"a": ["12:1", 0], "b": 100}
    assert prompt["20:5:1"]["inputs"] == {"a": ["1", 0], "b": 1000} and prompt["21"]["inputs"]["value"] == ["20:5:2", 0]
