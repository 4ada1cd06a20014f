"""ComfyUI editor workflows built for tests: an image chain through PrimitiveNode and Reroute, the
reference default.json with a LoraLoader added; and the reference object_info they convert against."""

import json

from tests.helpers.server_process import ROOT

DATA = ROOT / "tests" / "data"
ABSENT = object()  # widgets_values left out, not null

OBJECT_INFO = json.loads((DATA / "core_nodes_object_info.json").read_text())


def node(nid, kind, inputs=(), outputs=(), widgets=None, mode=0):
    return {
        "id": nid,
        "type": kind,
        "pos": [nid * 10, 0],
        "size": [200, 100],
        "flags": {},
        "order": nid,
        "mode": mode,
        "inputs": [dict(i) for i in inputs],
        "outputs": [dict(o) for o in outputs],
        "properties": {},
        "widgets_values": widgets,
    }


def image_chain(mode_of_invert=0):
    """EmptyImage(1) -> ImageInvert(2) -> Reroute(3) -> ImageScaleBy(4) -> SaveImage(5);
    a PrimitiveNode(6) feeds ImageScaleBy's scale_by (a converted widget)."""
    return {
        "last_node_id": 6,
        "last_link_id": 5,
        "version": 0.4,
        "groups": [],
        "config": {},
        "extra": {},
        "nodes": [
            node(1, "EmptyImage", outputs=[{"name": "IMAGE", "type": "IMAGE", "links": [1]}], widgets=[64, 32, 1, 255]),
            node(
                2,
                "ImageInvert",
                inputs=[{"name": "image", "type": "IMAGE", "link": 1}],
                outputs=[{"name": "IMAGE", "type": "IMAGE", "links": [2]}],
                mode=mode_of_invert,
            ),
            node(
                3,
                "Reroute",
                inputs=[{"name": "", "type": "*", "link": 2}],
                outputs=[{"name": "", "type": "IMAGE", "links": [3]}],
            ),
            node(
                4,
                "ImageScaleBy",
                inputs=[
                    {"name": "image", "type": "IMAGE", "link": 3},
                    {"name": "scale_by", "type": "FLOAT", "link": 5, "widget": {"name": "scale_by"}},
                ],
                outputs=[{"name": "IMAGE", "type": "IMAGE", "links": [4]}],
                widgets=["bicubic", 1.0],
            ),
            node(5, "SaveImage", inputs=[{"name": "images", "type": "IMAGE", "link": 4}], widgets=["out"]),
            node(
                6,
                "PrimitiveNode",
                outputs=[{"name": "FLOAT", "type": "FLOAT", "links": [5], "widget": {"name": "scale_by"}}],
                widgets=[2.5, "fixed"],
            ),
        ],
        "links": [
            [1, 1, 0, 2, 0, "IMAGE"],
            [2, 2, 0, 3, 0, "*"],
            [3, 3, 0, 4, 0, "IMAGE"],
            [4, 4, 0, 5, 0, "IMAGE"],
            [5, 6, 0, 4, 1, "FLOAT"],
        ],
    }


def with_lora(widgets_values=ABSENT):
    """The reference default.json (a ComfyUI template) with a LoraLoader between the checkpoint
    and its users, as a template adds one: node 10, its widgets_values as given."""
    workflow = json.loads((DATA / "workflows" / "default.json").read_text())
    lora = {
        "id": 10,
        "type": "LoraLoader",
        "pos": [400, 600],
        "size": [315, 126],
        "flags": {},
        "order": 1,
        "mode": 0,
        "inputs": [{"name": "model", "type": "MODEL", "link": 100}, {"name": "clip", "type": "CLIP", "link": 101}],
        "outputs": [
            {"name": "MODEL", "type": "MODEL", "links": [1], "slot_index": 0},
            {"name": "CLIP", "type": "CLIP", "links": [3, 5], "slot_index": 1},
        ],
        "properties": {"Node name for S&R": "LoraLoader"},
    }
    if widgets_values is not ABSENT:
        lora["widgets_values"] = widgets_values
    workflow["nodes"].append(lora)
    for link in workflow["links"]:  # checkpoint -> KSampler.model and -> both CLIPTextEncode.clip
        if link[0] in (1, 3, 5):
            link[1] = 10
    workflow["links"] += [[100, 4, 0, 10, 0, "MODEL"], [101, 4, 1, 10, 1, "CLIP"]]
    return workflow
