"""Subgraph conversion cost: a NodeFlow workflow of N instances of one subgraph (nested two deep)
converted to an API prompt, against the same graph written out flat (the baseline, measured in
the same run). Both produce the same number of API nodes; the ratio is what flattening adds.

    python bench/subgraphs.py [--instances 200] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nodeflow.workflow.convert import to_api  # noqa: E402 -- run as a script: after the repo root is put on sys.path

OBJECT_INFO = json.loads((ROOT / "tests" / "data" / "core_nodes_object_info.json").read_text())
INNER = {
    "id": "inner",
    "name": "invert+scale",
    "inputs": [{"name": "image", "type": "IMAGE"}],
    "outputs": [{"name": "IMAGE", "type": "IMAGE"}],
    "nodes": [{"id": "1", "type": "ImageInvert"}, {"id": "2", "type": "ImageScaleBy", "widgets": {"scale_by": 0.5}}],
    "links": [
        {"id": 1, "from": ["@in", 0], "to": ["1", "image"]},
        {"id": 2, "from": ["1", 0], "to": ["2", "image"]},
        {"id": 3, "from": ["2", 0], "to": ["@out", "IMAGE"]},
    ],
}
OUTER = {
    "id": "outer",
    "name": "twice",
    "inputs": [{"name": "image", "type": "IMAGE"}],
    "outputs": [{"name": "IMAGE", "type": "IMAGE"}],
    "nodes": [{"id": "1", "type": "inner"}, {"id": "2", "type": "inner"}],
    "links": [
        {"id": 1, "from": ["@in", 0], "to": ["1", "image"]},
        {"id": 2, "from": ["1", 0], "to": ["2", "image"]},
        {"id": 3, "from": ["2", 0], "to": ["@out", "IMAGE"]},
    ],
}


def with_subgraphs(n: int) -> dict:
    nodes = [{"id": "1", "type": "EmptyImage"}]
    links = []
    for i in range(n):
        nodes += [{"id": f"{10 + 2 * i}", "type": "outer"}, {"id": f"{11 + 2 * i}", "type": "PreviewImage"}]
        links += [
            {"id": 2 * i + 1, "from": ["1", 0], "to": [f"{10 + 2 * i}", "image"]},
            {"id": 2 * i + 2, "from": [f"{10 + 2 * i}", 0], "to": [f"{11 + 2 * i}", "images"]},
        ]
    return {"format": "nodeflow-workflow", "version": 2, "nodes": nodes, "links": links, "subgraphs": [INNER, OUTER]}


def flat(prompt: dict) -> dict:
    """The same graph as a flat NodeFlow workflow (ids made plain)."""
    ids = {k: str(i + 1) for i, k in enumerate(prompt)}
    nodes, links = [], []
    for key, node in prompt.items():
        widgets = {k: v for k, v in node["inputs"].items() if not isinstance(v, list)}
        nodes.append({"id": ids[key], "type": node["class_type"], "widgets": widgets})
        for name, value in node["inputs"].items():
            if isinstance(value, list):
                links.append({"id": len(links) + 1, "from": [ids[value[0]], value[1]], "to": [ids[key], name]})
    return {"format": "nodeflow-workflow", "version": 2, "nodes": nodes, "links": links}


def timed(data: dict, repeats: int) -> tuple[float, int]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        prompt, _ = to_api(json.loads(json.dumps(data)), OBJECT_INFO)
        times.append(time.perf_counter() - start)
    return min(times), len(prompt)  # the least disturbed run: the machine is shared


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    nested = with_subgraphs(args.instances)
    sub_s, sub_nodes = timed(nested, args.repeats)
    base_s, base_nodes = timed(flat(to_api(nested, OBJECT_INFO)[0]), args.repeats)
    assert sub_nodes == base_nodes
    print(
        json.dumps(
            {
                "instances": args.instances,
                "api_nodes": sub_nodes,
                "with_subgraphs_s": round(sub_s, 4),
                "flat_baseline_s": round(base_s, 4),
                "ratio": round(sub_s / base_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
