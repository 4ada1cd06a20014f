"""Editor-only nodes in saved files: reroute points (via) <-> ComfyUI Reroute nodes, PrimitiveNode."""

from nodeflow.workflow.convert import to_api, to_comfyui, to_nodeflow
from tests.helpers.editor_workflows import OBJECT_INFO, image_chain


def test_comfy_reroutes_become_via_points_and_come_back_as_reroute_nodes():
    workflow, _ = to_nodeflow(image_chain(), OBJECT_INFO)
    link = next(other for other in workflow["links"] if other["to"] == ["4", "image"])
    assert link["from"] == ["2", 0] and link["via"] == [[30.0, 0.0]] and link["type"] == "IMAGE"
    assert all("via" not in other for other in workflow["links"] if other is not link)

    comfy, _ = to_comfyui(workflow, OBJECT_INFO)
    reroutes = [n for n in comfy["nodes"] if n["type"] == "Reroute"]
    assert len(reroutes) == 1 and reroutes[0]["pos"] == [30.0, 0.0]
    ids = {link[0] for link in comfy["links"]}
    assert len(ids) == len(comfy["links"])  # hop links get fresh ids
    hop_in = next(link for link in comfy["links"] if link[3] == reroutes[0]["id"])
    hop_out = next(link for link in comfy["links"] if link[1] == reroutes[0]["id"])
    assert hop_in[1:3] == [2, 0] and hop_out[3] == 4 and hop_out[0] == link["id"]
    assert reroutes[0]["inputs"][0]["link"] == hop_in[0] and reroutes[0]["outputs"][0]["links"] == [hop_out[0]]
    invert = next(n for n in comfy["nodes"] if n["id"] == 2)
    assert invert["outputs"][0]["links"] == [hop_in[0]]

    again, _ = to_nodeflow(comfy, OBJECT_INFO)
    assert next(link for link in again["links"] if link["to"] == ["4", "image"])["via"] == [[30.0, 0.0]]
    assert to_api(again, OBJECT_INFO)[0] == to_api(workflow, OBJECT_INFO)[0]


def test_links_through_the_same_points_share_one_reroute():
    workflow, _ = to_nodeflow(image_chain(), OBJECT_INFO)
    first = next(link for link in workflow["links"] if link["to"] == ["4", "image"])
    workflow["links"].append(
        {
            "id": 99,
            "from": first["from"],
            "to": ["5", "images"],
            "type": "IMAGE",
            "via": [list(first["via"][0]), [50, 50]],
        }
    )
    workflow["links"] = [link for link in workflow["links"] if not (link["to"] == ["5", "images"] and link["id"] != 99)]
    comfy, _ = to_comfyui(workflow, OBJECT_INFO)
    assert len([n for n in comfy["nodes"] if n["type"] == "Reroute"]) == 2


def test_an_editor_primitive_node_is_skipped_by_the_server_and_exported_for_comfyui():
    workflow = {
        "format": "nodeflow-workflow",
        "version": 1,
        "nodes": [
            {
                "id": "1",
                "type": "EmptyImage",
                "pos": [0, 0],
                "converted": ["width", "height"],
                "widgets": {"width": 96, "height": 96, "batch_size": 1, "color": 0},
            },
            {"id": "2", "type": "PrimitiveNode", "pos": [0, 200], "widgets": {"value": 96}, "controls": {}},
            {"id": "3", "type": "PreviewImage", "pos": [300, 0], "widgets": {}},
        ],
        "links": [
            {"id": 1, "from": ["2", 0], "to": ["1", "width"], "type": "INT"},
            {"id": 2, "from": ["2", 0], "to": ["1", "height"], "type": "INT"},
            {"id": 3, "from": ["1", 0], "to": ["3", "images"], "type": "IMAGE"},
        ],
    }
    prompt, warnings = to_api(workflow, OBJECT_INFO)
    assert warnings == [] and set(prompt) == {"1", "3"}
    assert prompt["1"]["inputs"]["width"] == 96 and prompt["1"]["inputs"]["height"] == 96
    comfy, _ = to_comfyui(workflow, OBJECT_INFO)
    primitive = next(n for n in comfy["nodes"] if n["type"] == "PrimitiveNode")
    assert primitive["outputs"][0]["links"] == [1, 2] and primitive["outputs"][0]["type"] == "INT"
    assert primitive["widgets_values"] == [96]
    empty = next(n for n in comfy["nodes"] if n["id"] == 1)
    assert [i["name"] for i in empty["inputs"]] == ["width", "height"]
    back, _ = to_nodeflow(comfy, OBJECT_INFO)
    assert to_api(back, OBJECT_INFO)[0] == prompt
