"""A real server with a V3 pack and a V1 runtime pack: /object_info entries, POST /prompt running
expansion, async and V3 nodes, and a re-run served from the cache."""

import json

import pytest

from tests.helpers.server_process import call, free_port, start, wait

from .v1_runtime_pack_source import SOURCE as V1_SOURCE
from .v3_pack_source import pack_source, reference_info

pytestmark = pytest.mark.slow  # a server process with V3 and V1 packs


def queue(port, prompt):
    prompt_id = call(port, "POST", "/prompt", {"prompt": prompt, "client_id": "t"})["prompt_id"]
    return wait(lambda: call(port, "GET", f"/history/{prompt_id}").get(prompt_id), timeout=60)


def test_v3_and_v1_runtime_packs_through_the_http_api(tmp_path):
    for name, source in (("v3pack", pack_source()), ("runtime_pack", V1_SOURCE)):
        (tmp_path / "custom_nodes" / name).mkdir(parents=True)
        (tmp_path / "custom_nodes" / name / "__init__.py").write_text(source)
    port = free_port()
    proc = start(tmp_path, port, custom_nodes=True)
    try:
        kinds = {s["name"]: (s["ok"], s["kind"]) for s in call(port, "GET", "/nodeflow/plugins")}
        assert kinds["v3pack"] == (True, "comfy_v3") and kinds["runtime_pack"] == (True, "comfy_v1")
        info = call(port, "GET", "/object_info")
        expected = reference_info()["SamplerCustom"]
        assert {k: info["RefSamplerCustom"][k] for k in expected} == {**expected, "name": "RefSamplerCustom"}
        one = call(port, "GET", "/object_info/V3AsyncAdd")["V3AsyncAdd"]
        assert one["api_node"] is False and one["output_matchtypes"] is None and one["display_name"] is None
        assert info["Passthrough"]["output"] == ["*"]

        prompt = {
            "1": {"class_type": "EmptyImage", "inputs": {"width": 4, "height": 4, "batch_size": 1, "color": 0}},
            "2": {"class_type": "TwiceBlended", "inputs": {"image": ["1", 0], "factor": 0.5}},
            "3": {"class_type": "V3Scale", "inputs": {"image": ["2", 0], "factor": 2.0}},
            "4": {"class_type": "PreviewAny", "inputs": {"source": ["3", 0]}},
            "5": {"class_type": "AsyncDouble", "inputs": {"value": 4}},
            "6": {"class_type": "V3AsyncAdd", "inputs": {"a": ["5", 0], "b": 1}},
            "7": {"class_type": "V3Mapped", "inputs": {"value": ["6", 0]}},
            "8": {"class_type": "PreviewAny", "inputs": {"source": ["7", 0]}},
            "9": {"class_type": "V3Show", "inputs": {"text": ["2", 1]}},
        }
        entry = queue(port, prompt)
        assert entry["status"]["status_str"] == "success", json.dumps(entry["status"])[:2000]
        outputs = entry["outputs"]
        assert outputs["8"] == {"text": ["90"]}  # (4 * 2 + 1) * 10: async V1, async V3, V3 from NODE_CLASS_MAPPINGS
        assert outputs["9"] == {"text": ["2.0.0.4|WhereAmI|2|TwiceBlended|2|True"]}
        assert "shape [1, 4, 4, 3]" in outputs["4"]["text"][0] and "2.0.0.3" in outputs  # the expansion's preview

        again = queue(port, prompt)
        cached = next(m[1]["nodes"] for m in again["status"]["messages"] if m[0] == "execution_cached")
        assert sorted(cached) == sorted(prompt) and again["outputs"]["8"] == {"text": ["90"]}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
