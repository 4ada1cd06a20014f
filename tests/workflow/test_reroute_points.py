"""Reroute points: ComfyUI Reroute nodes <-> `via` points on NodeFlow links, both ways."""
from .test_editor_only_nodes import OBJECT_INFO, image_chain

from nodeflow.workflow.convert import to_api, to_comfyui, to_nodeflow


def test_comfy_reroutes_become_via_points_and_come_back_as_reroute_nodes():
    workflow, _ = to_nodeflow(image_chain(), OBJECT_INFO)
    link = next(l for l in workflow["links"] if l["to"] == ["4", "image"])
    assert link["from"] == ["2", 0] and link["via"] == [[30.0, 0.0]] and link["type"] == "IMAGE"
    assert all("via" not in l for l in workflow["links"] if l is not link)

    comfy, _ = to_comfyui(workflow, OBJECT_INFO)
    reroutes = [n for n in comfy["nodes"] if n["type"] == "Reroute"]
    assert len(reroutes) == 1 and reroutes[0]["pos"] == [30.0, 0.0]
    ids = {l[0] for l in comfy["links"]}
    assert len(ids) == len(comfy["links"])  # hop links get fresh ids
    hop_in = next(l for l in comfy["links"] if l[3] == reroutes[0]["id"])
    hop_out = next(l for l in comfy["links"] if l[1] == reroutes[0]["id"])
    assert hop_in[1:3] == [2, 0] and hop_out[3] == 4 and hop_out[0] == link["id"]
    assert reroutes[0]["inputs"][0]["link"] == hop_in[0] and reroutes[0]["outputs"][0]["links"] == [hop_out[0]]
    invert = next(n for n in comfy["nodes"] if n["id"] == 2)
    assert invert["outputs"][0]["links"] == [hop_in[0]]

    again, _ = to_nodeflow(comfy, OBJECT_INFO)
    assert next(l for l in again["links"] if l["to"] == ["4", "image"])["via"] == [[30.0, 0.0]]
    assert to_api(again, OBJECT_INFO)[0] == to_api(workflow, OBJECT_INFO)[0]


def test_links_through_the_same_points_share_one_reroute():
    workflow, _ = to_nodeflow(image_chain(), OBJECT_INFO)
    first = next(l for l in workflow["links"] if l["to"] == ["4", "image"])
    workflow["links"].append({"id": 99, "from": first["from"], "to": ["5", "images"], "type": "IMAGE",
                              "via": [list(first["via"][0]), [50, 50]]})
    workflow["links"] = [l for l in workflow["links"] if not (l["to"] == ["5", "images"] and l["id"] != 99)]
    comfy, _ = to_comfyui(workflow, OBJECT_INFO)
    assert len([n for n in comfy["nodes"] if n["type"] == "Reroute"]) == 2
